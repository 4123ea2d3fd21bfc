"""The protocol's using-graph-uri as USING clauses: where they go, and when they cannot."""

from __future__ import annotations

import pytest

from kg.errors import QueryError
from kg.sparql import Dataset
from kg.writes import add_using

G = Dataset(("http://g/default",), ("http://g/named",))
USING = "USING <http://g/default> USING NAMED <http://g/named> "


@pytest.mark.parametrize(("update", "expected"), [
    ("DELETE { GRAPH <g1> { ?s ?p ?o } } WHERE { ?s ?p ?o }",
     f"DELETE {{ GRAPH <g1> {{ ?s ?p ?o }} }} {USING}WHERE {{ ?s ?p ?o }}"),
    ("INSERT { ?s ?p ?o } WHERE { { SELECT * WHERE { ?s ?p ?o } } }",
     f"INSERT {{ ?s ?p ?o }} {USING}WHERE {{ {{ SELECT * WHERE {{ ?s ?p ?o }} }} }}"),
    ('INSERT DATA { <a:s> <a:p> "WHERE" } ; INSERT { ?s ?p 1 } WHERE { ?s ?p ?o } # WHERE',
     f'INSERT DATA {{ <a:s> <a:p> "WHERE" }} ; INSERT {{ ?s ?p 1 }} {USING}WHERE {{ ?s ?p ?o }} '
     "# WHERE"),
    ("CLEAR ALL", "CLEAR ALL"),
])
def test_using_goes_before_each_modify_where(update: str, expected: str) -> None:
    assert add_using(update, G) == expected


@pytest.mark.parametrize(("update", "message"), [
    ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE takes no dataset"),
    ("WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "the update names its dataset"),
    ("DELETE { ?s ?p ?o } USING <g> WHERE { ?s ?p ?o }", "the update names its dataset"),
])
def test_a_dataset_the_update_cannot_take_is_refused(update: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        add_using(update, G)


def test_without_protocol_graphs_the_update_is_untouched() -> None:
    update = "DELETE WHERE { ?s ?p ?o }"
    assert add_using(update, Dataset()) is update
