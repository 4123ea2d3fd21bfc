"""SPARQL result formats, the dataset of a query, and the shape of an answer.

The formats are pyoxigraph's own serializers; this module only names them and says which kind
of result each serves. Answers are produced by kg.evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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
    "ParsedTriples",
    "ResultFormat",
    "formats_for",
    "result_kind",
    "serialize_triples",
]

SOLUTIONS, BOOLEAN, GRAPH = "solutions", "boolean", "graph"


@dataclass(frozen=True)
class ResultFormat:
    """A serialization: its short name (for `format=`), media type, W3C format IRI
    (http://www.w3.org/ns/formats/) and the results it serves."""

    name: str
    media_type: str
    iri: str
    kinds: frozenset[str]
    results_format: ox.QueryResultsFormat | None = None
    rdf_format: ox.RdfFormat | None = None

    @property
    def suffix(self) -> str:
        """The file suffix of an answer in this format: pyoxigraph's extension for RDF (ttl,
        nt, nq, trig, jsonld, rdf), the short name for results (json, xml, csv, tsv)."""
        return self.rdf_format.file_extension if self.rdf_format is not None else self.name


def _bare(media_type: str) -> str:
    # pyoxigraph gives some media types with parameters ("text/csv; charset=utf-8"); Accept
    # matching works on the bare type, and every format here is UTF-8.
    return media_type.split(";", 1)[0].strip()


_W3C_FORMATS = "http://www.w3.org/ns/formats/"


def _results(name: str, fmt: ox.QueryResultsFormat, iri: str, kinds: set[str]) -> ResultFormat:
    return ResultFormat(name, _bare(fmt.media_type), _W3C_FORMATS + iri, frozenset(kinds),
                        results_format=fmt)


def _rdf(name: str, fmt: ox.RdfFormat, iri: str) -> ResultFormat:
    return ResultFormat(name, _bare(fmt.media_type), _W3C_FORMATS + iri, frozenset({GRAPH}),
                        rdf_format=fmt)


#: Every format, in order of preference for its kind: the first is the default without Accept.
FORMATS: tuple[ResultFormat, ...] = (
    _results("json", ox.QueryResultsFormat.JSON, "SPARQL_Results_JSON", {SOLUTIONS, BOOLEAN}),
    _results("xml", ox.QueryResultsFormat.XML, "SPARQL_Results_XML", {SOLUTIONS, BOOLEAN}),
    _results("csv", ox.QueryResultsFormat.CSV, "SPARQL_Results_CSV", {SOLUTIONS}),
    _results("tsv", ox.QueryResultsFormat.TSV, "SPARQL_Results_TSV", {SOLUTIONS}),
    _rdf("turtle", ox.RdfFormat.TURTLE, "Turtle"),
    _rdf("ntriples", ox.RdfFormat.N_TRIPLES, "N-Triples"),
    _rdf("nquads", ox.RdfFormat.N_QUADS, "N-Quads"),
    _rdf("trig", ox.RdfFormat.TRIG, "TriG"),
    _rdf("jsonld", ox.RdfFormat.JSON_LD, "JSON-LD"),
    _rdf("rdfxml", ox.RdfFormat.RDF_XML, "RDF_XML"),
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
        """The store's `query` arguments for this dataset.

        The protocol's dataset replaces the store's: given either parameter, the other side is
        empty (no named graphs, or an empty default graph), as on any SPARQL 1.1 server.
        """
        if not self.default_graphs and not self.named_graphs:
            return {}
        return {"default_graph": [ox.NamedNode(g) for g in self.default_graphs],
                "named_graphs": [ox.NamedNode(g) for g in self.named_graphs]}


def serialize_triples(triples: list[ox.Triple], fmt: ResultFormat) -> bytes:
    """A small graph (a description, not a query result) in an RDF format."""
    assert fmt.rdf_format is not None, "a graph needs an RDF format"
    return ox.serialize(triples, format=fmt.rdf_format) or b""


class ParsedTriples:
    """Triples read from a serialization (a graph another engine sent, or rows read back),
    which serialize like a CONSTRUCT result."""

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        self._triples = triples

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)

    def serialize(self, output: Any, fmt: ox.RdfFormat) -> None:
        """Write the triples to `output` in `fmt`."""
        ox.serialize(self._triples, output, fmt)


def result_kind(result: object) -> str:
    """SOLUTIONS, BOOLEAN or GRAPH."""
    if isinstance(result, ox.QueryBoolean):
        return BOOLEAN
    if isinstance(result, ox.QueryTriples | ParsedTriples):
        return GRAPH
    return SOLUTIONS


def formats_for(kind: str) -> list[ResultFormat]:
    """The formats that can serialize a result of this kind, preferred first."""
    return [f for f in FORMATS if kind in f.kinds]


@dataclass(frozen=True)
class Answer:
    """A query's answer, ready to send: the chosen format and the serialization."""

    format: ResultFormat
    body: bytes
    truncated: bool = False  # rows beyond the row cap were left out
