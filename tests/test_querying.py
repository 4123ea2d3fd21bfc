"""Detecting SERVICE without mistaking strings, IRIs, comments or names for it."""

from __future__ import annotations

import pytest

from kg.sparql_scan import mentions_service


@pytest.mark.parametrize("query", [
    "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "select * { service silent <x> {} }",
    "SELECT * { ?s ?p ?o FILTER(?o < 3 && ?o > 1) SERVICE <x> {} }",
    "SELECT * {\nSERVICE\n?endpoint {}}",
])
def test_service_is_found(query: str) -> None:
    assert mentions_service(query)


@pytest.mark.parametrize("query", [
    'SELECT * { ?s ?p "SERVICE" }',
    "SELECT * { ?s ?p '''it's a SERVICE''' }",
    "SELECT * { ?s <http://example.org/SERVICE> ?o }",
    "SELECT * { ?s ?p ?o } # SERVICE <x>",
    "SELECT ?service { ?service ?p ?o }",
    "SELECT * { ?s ex:service ?o }",
])
def test_service_in_strings_iris_comments_and_names_is_not(query: str) -> None:
    assert not mentions_service(query)


def test_an_escaped_keyword_is_no_way_around_the_check() -> None:
    """SPARQL's \\u escapes do not spell keywords in pyoxigraph: such a query does not parse."""
    import pyoxigraph as ox

    query = r"SELECT * WHERE { \u0053ERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }"
    assert not mentions_service(query)
    with pytest.raises(SyntaxError):
        ox.Store().query(query)


@pytest.mark.parametrize("query", [
    # Escapes in local names once made the scan read on as a comment or a string.
    r"PREFIX ex: <http://e/> SELECT * { VALUES ?q { ex:a\#b } SERVICE <http://x/> {} }",
    r"SELECT * { VALUES ?q { res:a\'b } SERVICE SILENT <http://x/> {} }",
    r"SELECT * { VALUES ?q { ex:a%41b } SERVICE <http://x/> {} }",
])
def test_service_after_escaped_names_is_found(query: str) -> None:
    assert mentions_service(query)
