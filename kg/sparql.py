"""SPARQL results in every format, streamed: what the endpoint and the CLI serve.

The formats are pyoxigraph's own serializers; this module only names them, says which kind of
result each serves, and streams their output so memory does not grow with a result.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kg.errors import QueryError

__all__ = [
    "BOOLEAN",
    "FORMATS",
    "GRAPH",
    "SOLUTIONS",
    "Answer",
    "Dataset",
    "ResultFormat",
    "answer",
    "formats_for",
    "result_kind",
    "serialize_triples",
]

SOLUTIONS, BOOLEAN, GRAPH = "solutions", "boolean", "graph"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ResultFormat:
    """A serialization: its short name (for `format=`), media type and the results it serves."""

    name: str
    media_type: str
    kinds: frozenset[str]
    results_format: ox.QueryResultsFormat | None = None
    rdf_format: ox.RdfFormat | None = None
    extension: str = ""


def _bare(media_type: str) -> str:
    # pyoxigraph gives some media types with parameters ("text/csv; charset=utf-8"); Accept
    # matching works on the bare type, and every format here is UTF-8.
    return media_type.split(";", 1)[0].strip()


def _results(name: str, fmt: ox.QueryResultsFormat, kinds: set[str]) -> ResultFormat:
    return ResultFormat(name, _bare(fmt.media_type), frozenset(kinds), results_format=fmt,
                        extension=fmt.file_extension)


def _rdf(name: str, fmt: ox.RdfFormat) -> ResultFormat:
    return ResultFormat(name, _bare(fmt.media_type), frozenset({GRAPH}), rdf_format=fmt,
                        extension=fmt.file_extension)


#: Every format, in order of preference for its kind: the first is the default without Accept.
FORMATS: tuple[ResultFormat, ...] = (
    _results("json", ox.QueryResultsFormat.JSON, {SOLUTIONS, BOOLEAN}),
    _results("xml", ox.QueryResultsFormat.XML, {SOLUTIONS, BOOLEAN}),
    _results("csv", ox.QueryResultsFormat.CSV, {SOLUTIONS}),
    _results("tsv", ox.QueryResultsFormat.TSV, {SOLUTIONS}),
    _rdf("turtle", ox.RdfFormat.TURTLE),
    _rdf("ntriples", ox.RdfFormat.N_TRIPLES),
    _rdf("nquads", ox.RdfFormat.N_QUADS),
    _rdf("trig", ox.RdfFormat.TRIG),
    _rdf("jsonld", ox.RdfFormat.JSON_LD),
    _rdf("rdfxml", ox.RdfFormat.RDF_XML),
)


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of a query, from the protocol's default-graph-uri and named-graph-uri.

    Empty means: the store's default graph (the union of all graphs) and all named graphs.
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for iri in (*self.default_graphs, *self.named_graphs):
            try:
                ox.NamedNode(iri)
            except ValueError as error:
                raise QueryError(f"{iri!r} is not a valid graph IRI: {error}") from None

    def query_arguments(self) -> dict[str, Any]:
        """The pyoxigraph `Store.query` arguments for this dataset."""
        arguments: dict[str, Any] = {}
        if self.default_graphs:
            arguments["default_graph"] = [ox.NamedNode(g) for g in self.default_graphs]
        if self.named_graphs:
            arguments["named_graphs"] = [ox.NamedNode(g) for g in self.named_graphs]
        return arguments


def serialize_triples(triples: list[ox.Triple], fmt: ResultFormat) -> bytes:
    """A small graph (a description, not a query result) in an RDF format."""
    assert fmt.rdf_format is not None, "a graph needs an RDF format"
    return ox.serialize(triples, format=fmt.rdf_format) or b""


def result_kind(result: object) -> str:
    """SOLUTIONS, BOOLEAN or GRAPH."""
    if isinstance(result, ox.QueryBoolean):
        return BOOLEAN
    if isinstance(result, ox.QueryTriples):
        return GRAPH
    return SOLUTIONS


def formats_for(kind: str) -> list[ResultFormat]:
    """The formats that can serialize a result of this kind, preferred first."""
    return [f for f in FORMATS if kind in f.kinds]


class _Cancelled(Exception):
    """The reader went away (a client disconnected): stop serializing."""


class _ChunkWriter:
    """A file-like that hands pyoxigraph's output to a reader in bounded chunks."""

    def __init__(self, chunks: queue.Queue[Any], cancelled: threading.Event) -> None:
        self._chunks = chunks
        self._cancelled = cancelled
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= _CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            while True:
                try:
                    self._chunks.put(chunk, timeout=0.1)
                    return
                except queue.Full:
                    if self._cancelled.is_set():
                        raise _Cancelled from None


@dataclass
class Answer:
    """A query's answer, ready to send: its kind, the chosen format and the output chunks."""

    kind: str
    format: ResultFormat
    chunks: Iterator[bytes]
    truncated: bool = False  # rows beyond the row cap were left out


def answer(evaluate: Callable[[], Any], choose: Callable[[str], ResultFormat]) -> Answer:
    """Evaluate a query and stream its serialization, in a thread of its own.

    pyoxigraph's results belong to the thread that made them, so `evaluate` runs in the
    serializing thread. `choose` picks the format for the kind of result (content negotiation)
    and may raise. The first chunk is read before returning, so the errors pyoxigraph raises
    lazily, while evaluating, surface here as QueryError, before any response has started.
    A bounded queue makes the serializer wait for a slow reader: memory stays bounded.
    """
    messages: queue.Queue[Any] = queue.Queue(maxsize=4)
    cancelled = threading.Event()

    def produce() -> None:
        result = None
        try:
            result = evaluate()
            kind = result_kind(result)
            fmt = choose(kind)
            messages.put((kind, fmt))
            output = _ChunkWriter(messages, cancelled)
            result.serialize(output, fmt.rdf_format or fmt.results_format)
            output.flush()
        except _Cancelled:
            return
        except BaseException as error:  # handed to the reader, which raises it
            # The result must die in this thread: drop it and the traceback that holds it.
            result = None
            messages.put(error.with_traceback(None))
            return
        finally:
            result = None
        messages.put(None)

    def take() -> Any:
        message = messages.get()
        if isinstance(message, OSError):
            raise QueryError(f"the query failed: {message}") from message
        if isinstance(message, BaseException):
            raise message
        return message

    def rest(first: bytes | None) -> Iterator[bytes]:
        try:
            chunk = first
            while chunk is not None:
                yield chunk
                chunk = take()
        finally:
            cancelled.set()

    threading.Thread(target=produce, name="sparql-answer", daemon=True).start()
    try:
        kind, fmt = take()
        first = take()
    except BaseException:
        cancelled.set()
        raise
    return Answer(kind, fmt, rest(first))
