"""SHACL checks that hold for stored and exported data, not only for what the writer makes."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib

from kg.errors import ShapeViolation
from kg.namespaces import Namespaces
from kg.shapes import _ParsedOnce, check_shapes

NS = Namespaces()
OA = "http://www.w3.org/ns/oa#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _quote(target: str, exact: str, start: int, end: int) -> list[ox.Quad]:
    t, q, p = ox.NamedNode(target), ox.NamedNode(target + "#q"), ox.NamedNode(target + "#p")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    g = ox.NamedNode(NS.graph("x"))
    return [ox.Quad(t, RDF_TYPE, ox.NamedNode(OA + "SpecificResource"), g),
            ox.Quad(t, ox.NamedNode(OA + "hasSelector"), q, g),
            ox.Quad(t, ox.NamedNode(OA + "hasSelector"), p, g),
            ox.Quad(q, RDF_TYPE, ox.NamedNode(OA + "TextQuoteSelector"), g),
            ox.Quad(q, ox.NamedNode(OA + "exact"), ox.Literal(exact), g),
            ox.Quad(p, RDF_TYPE, ox.NamedNode(OA + "TextPositionSelector"), g),
            ox.Quad(p, ox.NamedNode(OA + "start"), ox.Literal(str(start), datatype=integer), g),
            ox.Quad(p, ox.NamedNode(OA + "end"), ox.Literal(str(end), datatype=integer), g)]


def test_offsets_that_disagree_with_the_quote_break_a_shape() -> None:
    good = _quote("https://example.org/t1", "Qassim Soleimani", 10, 26)
    assert check_shapes(good, NS, {}) > 0
    bad = _quote("https://example.org/t2", "Qassim Soleimani", 10, 25)
    with pytest.raises(ShapeViolation) as caught:
        check_shapes(good + bad, NS, {"https://example.org/t2": "doc.yaml:7"})
    assert [str(p).split("\n")[0] for p in caught.value.problems] == [
        "doc.yaml:7: https://example.org/t2: the quote's length does not match its start and "
        "end offsets"]


def test_a_sparql_constraint_is_parsed_once_for_every_focus_node() -> None:
    """pySHACL runs a SPARQL-based constraint once per focus node; the data graph parses its
    text once and evaluates the prepared query for each (parsing was most of a build)."""
    quads = [q for i in range(20)
             for q in _quote(f"https://example.org/t{i}", "Qassim Soleimani", 10, 26 + i % 2)]
    origins = {f"https://example.org/t{i}": f"doc.yaml:{i}" for i in range(20)}
    with pytest.raises(ShapeViolation) as caught:
        check_shapes(quads, NS, origins)
    assert len(caught.value.problems) == 10  # every other offset is one too far
    graph = _ParsedOnce()
    text = "SELECT ?o WHERE { ?s <http://x/p> ?o }"
    graph.add((rdflib.URIRef("http://x/a"), rdflib.URIRef("http://x/p"), rdflib.Literal(1)))
    graph.add((rdflib.URIRef("http://x/b"), rdflib.URIRef("http://x/p"), rdflib.Literal(2)))
    for subject, value in (("http://x/a", 1), ("http://x/b", 2)):
        rows = list(graph.query(text, initBindings={"s": rdflib.URIRef(subject)}))
        assert [row[0].toPython() for row in rows] == [value]  # type: ignore[index]
    assert len(graph._prepared) == 1
