"""Evaluating one query into a complete answer, cut at the row cap.

The answer is computed in full before anything is sent, so its status (200, a 4xx for an
evaluation error, 503 past the time limit) is known before the first byte goes out and the
truncation signal can be a header. Memory is bounded by the row cap and BYTE_CAP, not by the
size of the result. Stopping a query that runs too long is the server's job (server.worker):
pyoxigraph cannot cancel one (oxigraph#1926), but it releases the GIL while it evaluates.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kg.errors import NotAcceptable
from kg.sparql import BOOLEAN, SOLUTIONS, Answer, Dataset, ParsedTriples, ResultFormat, result_kind
from kg.store import GraphStore

if TYPE_CHECKING:  # kg.saved_queries imports kg.querying, which this need not load
    from kg.saved_queries import Substitutions

__all__ = ["BYTE_CAP", "QueryRequest", "evaluate"]

#: Most bytes of rows an answer may hold, whatever the row cap: a few huge literals must not
#: exhaust memory.
BYTE_CAP = 256 * 1024 * 1024


@dataclass(frozen=True)
class QueryRequest:
    """One query and everything its answer depends on."""

    query: str
    dataset: Dataset
    prefixes: dict[str, str]
    base_iri: str | None
    #: For each kind of result, the format to use, or why none can serve it (NotAcceptable's
    #: message): content negotiation happens before the query runs, when its kind is unknown.
    formats: dict[str, ResultFormat | str]
    #: The most rows (solutions, or triples of a graph) an answer may have.
    row_cap: int = 100_000
    #: Values of variables, bound before evaluation (a saved query's parameters).
    substitutions: Substitutions = field(default_factory=dict)


class _CapReached(Exception):
    """More rows than the cap: stop serializing."""


class _LineBuffer:
    """Collects a one-row-per-line serialization, up to a number of lines."""

    def __init__(self, max_lines: int) -> None:
        self.data = bytearray()
        self.lines = 0
        self._max_lines = max_lines

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        self.lines += chunk.count(b"\n")
        if self.lines > self._max_lines or len(self.data) > BYTE_CAP:
            raise _CapReached
        return len(chunk)

    def flush(self) -> None:
        """Nothing to flush: the rows stay here until they are read back."""

    def first_lines(self, count: int) -> bytes:
        end = -1
        for _ in range(count):
            end = self.data.index(b"\n", end + 1)
        return bytes(self.data[: end + 1])


def _capped(result: Any, kind: str, row_cap: int) -> tuple[Any, bytes | None, bool]:
    """The result with at most `row_cap` rows, its TSV or N-Triples text, and whether rows
    were cut.

    Solutions go through TSV and graphs through N-Triples, both one row per line, so rows are
    counted exactly without parsing; pyoxigraph then reads the rows back for the requested
    format. The buffer is bounded by the cap.
    """
    header = 1 if kind == SOLUTIONS else 0
    buffer = _LineBuffer(row_cap + header)
    truncated = False
    try:
        if kind == SOLUTIONS:
            result.serialize(buffer, ox.QueryResultsFormat.TSV)
        else:
            result.serialize(buffer, ox.RdfFormat.N_TRIPLES)
    except _CapReached:
        truncated = True
    if truncated:
        # buffer.lines counts whole rows: the byte cap may stop in the middle of one
        rows = buffer.first_lines(min(row_cap + header, buffer.lines))
    else:
        rows = bytes(buffer.data)
    if kind == SOLUTIONS:
        return ox.parse_query_results(rows, ox.QueryResultsFormat.TSV), rows, truncated
    return ParsedTriples(list(ox.parse(rows, ox.RdfFormat.N_TRIPLES))), rows, truncated


def _format(request: QueryRequest, kind: str) -> ResultFormat:
    chosen = request.formats[kind]
    if isinstance(chosen, str):
        raise NotAcceptable(chosen)
    return chosen


def evaluate(store: GraphStore, request: QueryRequest) -> Answer:
    """Answer `request` from `store`, in full; QueryError (or the negotiation error) if not."""
    result = store.query(request.query, prefixes=request.prefixes, base_iri=request.base_iri,
                         substitutions=request.substitutions or None,
                         **request.dataset.query_arguments())
    kind = result_kind(result)
    fmt = _format(request, kind)
    try:
        if kind == BOOLEAN:
            rows, truncated = None, False
        else:
            result, rows, truncated = _capped(result, kind, request.row_cap)
        if rows is not None and fmt.name in ("tsv", "ntriples"):
            return Answer(fmt, rows, truncated)  # already in the format asked for
        output = io.BytesIO()
        result.serialize(output, fmt.rdf_format or fmt.results_format)
    except (SyntaxError, OSError, ValueError) as error:
        # Evaluation is lazy: errors of a well-formed query surface while it is serialized
        # (on a remote backend, a failure while its answer streams in).
        raise store.failure(error) from error
    return Answer(fmt, output.getvalue(), truncated)
