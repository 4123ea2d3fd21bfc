"""Two documents about one event: per-document graphs, combined dates, stated vs claimed."""

from __future__ import annotations

from helpers import select

from kg.namespaces import Namespaces
from kg.settings import Settings

NS = Namespaces()
INFERRED = NS.graph("inferred")




def test_parts_of_a_date_in_two_documents_combine_in_the_inferred_graph(
        pair_built: Settings) -> None:
    rows = select(pair_built, """SELECT ?g ?edtf ?precision WHERE { GRAPH ?g {
        res:killing ckg:edtf ?edtf ; ckg:datePrecision ?precision } }""")
    assert rows == [{"g": INFERRED, "edtf": "2020-01-03",
                     "precision": NS.term("DayPrecision")}]
    sources = select(pair_built, f"""SELECT ?edtf ?g WHERE {{
        <{NS.resource("killing/date-combined")}> prov:wasDerivedFrom ?st .
        GRAPH ?g {{ ?st rdf:object/ckg:edtf ?edtf }} }} ORDER BY ?edtf""")
    assert sources == [{"edtf": "2020-01", "g": NS.graph("b")},
                       {"edtf": "XXXX-01-03", "g": NS.graph("a")}]


def test_the_inferred_graph_repeats_nothing_a_document_asserts(pair_built: Settings) -> None:
    assert select(pair_built, f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }}
        GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED}>) }}""") == []
    assert select(pair_built, f"""SELECT ?span WHERE {{ GRAPH <{INFERRED}> {{
        ?span a ckg:TimeSpan }} }}""") == []


def test_a_fact_stated_and_also_claimed_has_two_statement_nodes(pair_built: Settings) -> None:
    rows = select(pair_built, f"""SELECT ?quote ?claim WHERE {{ GRAPH <{NS.graph("b")}> {{
        ?st rdf:subject res:killing ; rdf:predicate ckg:hasVictim ; rdf:object res:general ;
            ckg:evidence/oa:hasTarget/oa:hasSelector ?sel .
        ?sel oa:exact ?quote ; ^oa:hasSelector/^oa:hasTarget ?annotation .
        ?sel ^oa:hasSelector/oa:hasSelector/oa:start ?start
        OPTIONAL {{ ?claim ckg:claims ?st }} }} }} ORDER BY ?start""")
    assert {(r["quote"], r.get("claim", "")) for r in rows} == {
        ("the general was killed", ""),
        ("the general was killed", NS.resource("officials-on-the-killing"))}
    nodes = select(pair_built, f"""SELECT DISTINCT ?st WHERE {{ GRAPH <{NS.graph("b")}> {{
        ?st rdf:subject res:killing ; rdf:predicate ckg:hasVictim }} }}""")
    assert len(nodes) == 2


def test_a_document_graph_types_only_what_the_document_mentions(pair_built: Settings) -> None:
    """Document a never mentions the Guard; only b's graph types it."""
    rows = select(pair_built, "SELECT ?g WHERE { GRAPH ?g { res:guard a ckg:ArmedForce } }")
    assert rows == [{"g": NS.graph("b")}]
    assert select(pair_built, f"""SELECT ?x WHERE {{ GRAPH <{NS.graph("a")}> {{
        res:guard ?p ?x }} }}""") == []


def test_each_fact_counts_once_in_the_default_graph(pair_built: Settings) -> None:
    rows = select(pair_built, "SELECT (COUNT(*) AS ?n) WHERE { res:killing ckg:hasVictim ?v }")
    assert rows == [{"n": "1"}]
