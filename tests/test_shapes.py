"""SHACL checks that hold for stored and exported data, not only for what the writer makes."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.errors import ShapeViolation
from kg.namespaces import Namespaces
from kg.shapes import check_shapes

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
