"""SHACL validation of a built graph with pySHACL (the one module that imports it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib.plugins.sparql import prepareQuery

from kg.errors import Problem, ShapeViolation
from kg.namespaces import Namespaces
from kg.vocabulary import shapes_text

__all__ = ["check_shapes"]

_SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


class _ParsedOnce(rdflib.Graph):
    """An rdflib graph that parses each SPARQL text once, then evaluates rdflib's prepared
    query. pySHACL evaluates a SPARQL-based constraint once per focus node, passing its text,
    and rdflib parses a text on every call: that parsing took 9 of the seed build's 12 s."""

    def __init__(self) -> None:
        super().__init__()
        self._prepared: dict[tuple[str, frozenset[tuple[str, Any]]], Any] = {}

    def query(self, query_object: Any, processor: Any = "sparql", result: Any = "sparql",
              initNs: Mapping[str, Any] | None = None,
              initBindings: Mapping[str, Any] | None = None,
              use_store_provided: bool = True, **kwargs: Any) -> Any:
        if isinstance(query_object, str) and processor == "sparql":
            key = (query_object, frozenset((initNs or {}).items()))
            if key not in self._prepared:
                self._prepared[key] = prepareQuery(query_object, initNs=dict(initNs or {}))
            query_object = self._prepared[key]
        return super().query(query_object, processor, result, initNs, initBindings,
                             use_store_provided, **kwargs)


def _to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    # pyoxigraph serializes, rdflib parses: no hand-written conversion of terms.
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    graph = _ParsedOnce()
    graph.parse(data=data.decode("utf-8"), format="nt")
    return graph


def check_shapes(quads: Iterable[ox.Quad], ns: Namespaces, origins: dict[str, str]) -> int:
    """Validate the union of `quads` against the shapes; return the number of nodes checked.

    Raise ShapeViolation naming, for each result, the annotation that produced the node.
    """
    data = _to_rdflib(quads)
    shapes = rdflib.Graph().parse(data=shapes_text(ns), format="turtle")
    # In place: with no inference pySHACL does not change the data, and a copy would be a
    # plain rdflib graph again.
    conforms, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                           advanced=False, allow_warnings=True, inplace=True)
    if conforms:
        return len(set(data.subjects()))
    problems = []
    for result in sorted(report.subjects(rdflib.RDF.type, _SH.ValidationResult), key=str):
        focus = str(report.value(result, _SH.focusNode))
        path = report.value(result, _SH.resultPath)
        message = report.value(result, _SH.resultMessage)
        label = data.value(rdflib.URIRef(focus), rdflib.RDFS.label)
        name = f"'{label}' ({focus})" if label else focus
        where = origins.get(focus, focus)
        on = f" [{_short(str(path))}]" if isinstance(path, rdflib.URIRef) else ""
        problems.append(Problem(where, f"{name}{on}: {message}",
                                "add the missing statement or correct the annotation here"))
    raise ShapeViolation(f"the graph breaks {len(problems)} SHACL constraint"
                         f"{'s' if len(problems) != 1 else ''}", tuple(problems))


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
