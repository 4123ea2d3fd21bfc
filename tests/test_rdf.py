"""The RDF the build writes: Web Annotation evidence, reification, claims, qualifiers."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from helpers import select

from kg.annotations import load_corpus
from kg.namespaces import Namespaces
from kg.rdf import CONTEXT_CHARS, build_graph
from kg.settings import Settings
from kg.vocabulary import Vocabulary

NS = Namespaces()
MINI_GRAPH = NS.graph("mini")
MINI_TEXT = Path(__file__).resolve().parent / "fixtures" / "mini" / "documents" / "mini.txt"




def test_evidence_is_a_web_annotation_with_quote_and_position(mini_built: Settings) -> None:
    rows = select(mini_built, """SELECT ?motivation ?exact ?prefix ?suffix ?start ?end ?source
        WHERE { res:ann-example ckg:evidence ?a . ?a oa:hasBody res:ann-example ;
          oa:motivatedBy ?motivation ; oa:hasTarget ?t . ?t oa:hasSource ?source ;
          oa:hasSelector ?q, ?p . ?q a oa:TextQuoteSelector ; oa:exact ?exact ; oa:prefix ?prefix ;
          oa:suffix ?suffix . ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end }""")
    text = (MINI_TEXT).read_text(encoding="utf-8")
    assert rows == [{
        "motivation": "http://www.w3.org/ns/oa#identifying",
        "exact": "General Ann Example", "start": "144", "end": "163",
        "prefix": text[144 - CONTEXT_CHARS : 144], "suffix": text[163 : 163 + CONTEXT_CHARS],
        "source": NS.resource("mini")}]
    assert rows[0]["prefix"].endswith("officials said. ")


def test_a_stated_fact_is_asserted_and_reified_with_its_qualifiers(mini_built: Settings) -> None:
    rows = select(mini_built, f"""SELECT ?position ?quote WHERE {{
        GRAPH <{MINI_GRAPH}> {{ res:ann-example ckg:commands res:rocket-force .
          ?st rdf:subject res:ann-example ; rdf:predicate ckg:commands ;
              rdf:object res:rocket-force ; ckg:positionTitle ?position ;
              ckg:evidence/oa:hasTarget/oa:hasSelector/oa:exact ?quote }} }}""")
    assert rows == [{"position": "General",
                     "quote": "General Ann Example, who commands the Westland Rocket Force"}]


def test_a_claimed_fact_is_reified_under_its_claim_but_not_asserted(mini_built: Settings) -> None:
    assert not select(mini_built, "SELECT * WHERE { res:camp-north-strike ckg:hasAgent ?x }")
    rows = select(mini_built, """SELECT ?by ?agent WHERE { ?claim ckg:claimedBy ?by ;
        ckg:claims ?st . ?st rdf:subject res:camp-north-strike ; rdf:predicate ckg:hasAgent ;
        rdf:object ?agent }""")
    assert rows == [{"by": NS.resource("officials"), "agent": NS.resource("westland")}]


def test_counts_are_typed_literals(mini_built: Settings) -> None:
    rows = select(mini_built, """SELECT ?n (DATATYPE(?n) AS ?type) WHERE {
        ?st rdf:subject res:camp-north-strike ; rdf:predicate ckg:numberKilled ; rdf:object ?n }""")
    assert rows == [{"n": "3", "type": "http://www.w3.org/2001/XMLSchema#integer"}]


def test_claimed_dates_do_not_date_the_event(mini_built: Settings) -> None:
    """The strike's date is the officials' claim: no sortable date is asserted for it."""
    assert not select(mini_built, "SELECT * WHERE { res:camp-north-strike ckg:earliestDate ?d }")
    rows = select(mini_built, """SELECT ?edtf ?precision WHERE { ?st rdf:subject
        res:camp-north-strike ; rdf:predicate ckg:date ; rdf:object ?span .
        ?span ckg:edtf ?edtf ; ckg:precision ?precision }""")
    assert rows == [{"edtf": "2020-01-03", "precision": NS.term("DayPrecision")}]


def test_the_same_corpus_builds_the_same_quads(mini_settings: Settings) -> None:
    vocabulary = Vocabulary.load(NS)
    first = build_graph(load_corpus(mini_settings.corpus_dir, vocabulary), vocabulary, NS)
    second = build_graph(load_corpus(mini_settings.corpus_dir, vocabulary), vocabulary, NS)
    # Document graphs mint IRIs only, so they are identical; the ontology's blank nodes are not.
    assert first.graph(MINI_GRAPH) == second.graph(MINI_GRAPH)
    assert not any(isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)
                   for q in first.graph(MINI_GRAPH))
