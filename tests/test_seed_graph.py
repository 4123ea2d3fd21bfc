"""The seed corpus as a researcher queries it: answers checked against what the articles say."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from helpers import ask, select

from kg.annotations import load_corpus
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.stats import store_stats
from kg.store import ReadStore
from kg.vocabulary import Vocabulary

NS = Namespaces()
DOCUMENTS = Path(__file__).resolve().parent.parent / "kg" / "corpus" / "documents"
SHARED_SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
SEEDS = {
    "000_3721a68a2604996e.txt": "dead-heat",
    "003_a1737a948acef701.txt": "us-reaps-more",
}






def _quotes(settings: Settings, subject: str, predicate: str, obj: str) -> set[str]:
    """The exact quotes whose annotations support the statement `subject predicate obj`."""
    rows = select(settings, f"""
        SELECT ?quote WHERE {{
          ?st a rdf:Statement ; rdf:subject {subject} ; rdf:predicate {predicate} ;
              rdf:object {obj} ; ckg:evidence/oa:hasTarget/oa:hasSelector ?sel .
          ?sel a oa:TextQuoteSelector ; oa:exact ?quote }}""")
    return {r["quote"] for r in rows}


# --- the corpus itself ----------------------------------------------------------------------


def test_seed_texts_are_byte_for_byte_copies() -> None:
    digests = {
        "000_3721a68a2604996e.txt":
            "d0ffaeb77200b4a3d98b5516da49a699115cbce61492ea1749c36745e1a97083",
        "003_a1737a948acef701.txt":
            "2b0fabe640c0939ea2b2633320c77525515fcca7e904ec412df0c8a2f0f235b8",
    }
    for name in SEEDS:
        ours = (DOCUMENTS / name).read_bytes()
        if SHARED_SEEDS.is_dir():
            assert ours == (SHARED_SEEDS / name).read_bytes(), name
        assert hashlib.sha256(ours).hexdigest() == digests[name], name


def test_every_quote_matches_its_document() -> None:
    corpus = load_corpus(Settings().corpus_dir, Vocabulary.load(NS))
    checked = 0
    for document in corpus.documents:
        quotes = [m.quote for m in document.mentions]
        quotes += [q for s in document.statements for q in s.evidence]
        quotes += [q for c in document.claims for q in c.evidence]
        for quote in quotes:
            assert document.text[quote.start : quote.end] == quote.text, quote.where
        checked += len(quotes)
    assert checked > 1000


# --- questions a researcher asks ---------------------------------------------------------------


def test_who_was_killed_with_soleimani(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT ?name WHERE {
        res:killing-of-qassem-soleimani ckg:hasVictim ?victim .
        ?victim skos:prefLabel ?name FILTER(?victim != res:qassem-soleimani) }""")
    assert rows == [{"name": "Abu Mahdi al-Muhandis"}]
    assert any("Abu Mahdi al-Muhandis, was killed alongside Soleimani" in q for q in _quotes(
        seed_built, "res:killing-of-qassem-soleimani", "ckg:hasVictim",
        "res:abu-mahdi-al-muhandis"))


def test_where_soleimani_was_killed(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT ?name ?city WHERE {
        res:killing-of-qassem-soleimani ckg:place ?place . ?place skos:prefLabel ?name .
        OPTIONAL { ?place ckg:locatedIn ?c . ?c a ckg:City ; skos:prefLabel ?city } }""")
    assert rows == [{"name": "Baghdad airport", "city": "Baghdad"}]
    assert any("arriving at Baghdad airport" in q for q in _quotes(
        seed_built, "res:killing-of-qassem-soleimani", "ckg:place", "res:baghdad-airport"))


def test_when_soleimani_was_killed_combines_both_articles(seed_built: Settings) -> None:
    """'on 3 January' (first article, no year) + 'January 2020' (second) = 3 January 2020."""
    rows = select(seed_built, """SELECT ?edtf ?earliest ?latest ?precision ?g WHERE {
        GRAPH ?g { res:killing-of-qassem-soleimani ckg:edtf ?edtf ; ckg:earliestDate ?earliest ;
                   ckg:latestDate ?latest ; ckg:datePrecision ?precision } }""")
    assert rows == [{"edtf": "2020-01-03", "earliest": "2020-01-03", "latest": "2020-01-03",
                     "precision": NS.term("DayPrecision"), "g": NS.graph("inferred")}]
    stated = select(seed_built, """SELECT ?edtf ?g WHERE { GRAPH ?g {
        res:killing-of-qassem-soleimani ckg:date ?span . ?span ckg:edtf ?edtf } } ORDER BY ?edtf""")
    assert stated == [{"edtf": "2020-01", "g": NS.graph("us-reaps-more")},
                      {"edtf": "XXXX-01-03", "g": NS.graph("dead-heat")}]
    combined = NS.resource("killing-of-qassem-soleimani/date-combined")
    assert ask(seed_built, f"ASK {{ <{combined}> prov:wasDerivedFrom ?a, ?b FILTER(?a != ?b) }}")


def test_who_succeeded_soleimani(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT ?name WHERE {
        res:qassem-soleimani ckg:succeededBy ?s . ?s skos:prefLabel ?name }""")
    assert rows == [{"name": "Esmail Qaani"}]
    assert any("a successor, General Esmail Qaani" in q for q in _quotes(
        seed_built, "res:qassem-soleimani", "ckg:succeededBy", "res:esmail-qaani"))
    # The inverse is inferred, not asserted.
    assert ask(seed_built, f"""ASK {{ GRAPH <{NS.graph('inferred')}> {{
        res:esmail-qaani ckg:succeeded res:qassem-soleimani }} }}""")


def test_which_us_bases_irans_missiles_struck(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT DISTINCT ?base WHERE {
        ?strike a ckg:MissileStrike ; ckg:hasAgent res:iran ; ckg:hasTarget ?b .
        ?b a ckg:MilitaryBase ; skos:prefLabel ?base } ORDER BY ?base""")
    assert rows == [{"base": "Erbil"}, {"base": "al-Asad"}]
    assert any("strikes on two US bases in Iraq, Erbil" in q for q in _quotes(
        seed_built, "res:iranian-missile-strikes-on-us-bases", "ckg:hasTarget", "res:erbil-base"))


def test_the_strikes_as_retaliation_are_irans_claim_not_the_articles(
        seed_built: Settings) -> None:
    """Only Iran's messages call the strikes retaliation for Soleimani's death."""
    assert not ask(seed_built, """ASK { res:iranian-missile-strikes-on-us-bases
        ckg:inResponseTo res:killing-of-qassem-soleimani }""")
    rows = select(seed_built, """SELECT ?quote WHERE { ?claim ckg:claimedBy res:iran ;
        ckg:claims ?st . ?st rdf:subject res:iranian-missile-strikes-on-us-bases ;
        rdf:predicate ckg:inResponseTo ; rdf:object res:killing-of-qassem-soleimani ;
        ckg:evidence/oa:hasTarget/oa:hasSelector/oa:exact ?quote }""")
    assert rows == [{"quote": "this was the beginning and end of their military retaliation "
                              "for the death of Soleimani"}]


def test_what_us_officials_claimed_about_attacks_since_may_2019(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT ?property ?value ?estimate WHERE {
        ?claim ckg:claimedBy res:us-officials ; ckg:claims ?st .
        ?st rdf:subject res:attacks-on-us-targets-in-iraq-since-may-2019 ;
            rdf:predicate ?property ; rdf:object ?o .
        OPTIONAL { ?o ckg:edtf ?edtf }
        BIND(COALESCE(?edtf, ?o) AS ?value)
        OPTIONAL { ?st ckg:isEstimate ?estimate } }""")
    claimed = {(r["property"].rsplit("#", 1)[1], r["value"].replace(NS.resource_prefix, ""),
                r.get("estimate", "")) for r in rows}
    # "some 90 attacks on US targets in Iraq since May 2019 carried out by Iranian-backed Iraqi
    # militias, including Katab Hezbollah"
    assert claimed == {("type", NS.term("EventSeries"), ""),
                       ("numberOfIncidents", "90", "true"), ("date", "2019-05/..", ""),
                       ("hasAgent", "iran-backed-iraqi-militias", ""),
                       ("hasAgent", "kataib-hezbollah", ""), ("hasTarget", "united-states", ""),
                       ("place", "iraq-country", "")}
    claim_text = select(seed_built, """SELECT ?text WHERE { ?c ckg:claimedBy res:us-officials ;
        ckg:claimText ?text }""")
    assert any("some 90 attacks on US targets in Iraq since May 2019" in r["text"]
               for r in claim_text)


def test_claimed_statements_are_not_asserted(seed_built: Settings) -> None:
    """The article attributes the 90 attacks to US officials; it does not state them."""
    assert not ask(seed_built,
                    "ASK { res:attacks-on-us-targets-in-iraq-since-may-2019 "
                    "ckg:numberOfIncidents ?n }")
    # Even that such a series exists is theirs: its type is claimed, not asserted.
    assert not ask(seed_built, "ASK { res:attacks-on-us-targets-in-iraq-since-may-2019 a ?t }")
    assert ask(seed_built, "ASK { res:attacks-on-us-targets-in-iraq-since-may-2019 "
                            "rdfs:label ?label ; ckg:evidence ?mention }")


def test_counts_as_stated(seed_built: Settings) -> None:
    killed = select(seed_built, """SELECT ?n WHERE { ?e a ckg:ShootDown ; ckg:accidental true ;
        ckg:numberKilled ?n }""")
    assert killed == [{"n": "176"}]
    nineteenth = select(seed_built, """SELECT ?quote WHERE { ?e ckg:ordinalInSeries 19 ;
        ckg:hasTarget res:us-embassy-baghdad ;
        ckg:partOf res:attacks-on-us-embassy-and-troops-since-october-2019 .
        ?st rdf:subject ?e ; rdf:predicate ckg:ordinalInSeries ;
            ckg:evidence/oa:hasTarget/oa:hasSelector/oa:exact ?quote }""")
    assert nineteenth == [{"quote": "the 19th attack"}]
    troops = select(seed_built, """SELECT ?g ?estimate WHERE {
        GRAPH ?g { ?st rdf:subject res:us-troops-in-iraq ; rdf:predicate ckg:numberOfPersonnel ;
                       rdf:object 5200 } OPTIONAL { ?st ckg:isEstimate ?estimate } }
        ORDER BY ?g""")
    assert troops == [{"g": NS.graph("dead-heat")},
                      {"g": NS.graph("us-reaps-more"), "estimate": "true"}]


def test_spelling_variants_and_descriptions_resolve_to_one_entity(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT DISTINCT ?text ?entity WHERE {
        ?a oa:motivatedBy oa:identifying ; oa:hasBody ?entity ;
           oa:hasTarget/oa:hasSelector/oa:exact ?text
        FILTER(?text IN ("Qassem Soleimani", "Qassim Soleimani", "the kingdom",
                         "the Islamic republic", "Katab Hezbollah")) }""")
    resolved = {(r["text"], r["entity"].rsplit("/", 1)[1]) for r in rows}
    # "the Islamic republic" is the state ("the Islamic republic's nuclear program") and, once,
    # its territory ("on the Islamic republic's border"): two entities, as the ontology requires.
    assert resolved == {("Qassem Soleimani", "qassem-soleimani"),
                        ("Qassim Soleimani", "qassem-soleimani"),
                        ("the kingdom", "saudi-arabia"), ("the Islamic republic", "iran"),
                        ("the Islamic republic", "iran-country"),
                        ("Katab Hezbollah", "kataib-hezbollah")}
    border = select(seed_built, """SELECT ?e WHERE { ?a oa:hasBody ?e ;
        oa:hasTarget/oa:hasSelector ?q . ?q oa:exact "the Islamic republic" ;
        oa:suffix ?after FILTER(STRSTARTS(?after, "’s border")) }""")
    assert border == [{"e": NS.resource("iran-country")}]


def test_document_metadata_only_as_stated(seed_built: Settings) -> None:
    assert not ask(seed_built, "ASK { res:dead-heat ckg:author|ckg:publicationDate|"
                                "ckg:publisher ?x }")
    assert select(seed_built, "SELECT ?a WHERE { res:us-reaps-more ckg:author ?a }") == [
        {"a": NS.resource("james-m-dorsey")}]
    assert not ask(seed_built, "ASK { res:us-reaps-more ckg:publicationDate|ckg:publisher ?x }")


def test_footnotes_are_cited_works(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT ?n WHERE { res:us-reaps-more ckg:cites ?w .
        ?w ckg:footnote ?n } ORDER BY xsd:integer(?n)""")
    assert [int(r["n"]) for r in rows] == list(range(1, 25))
    guardian = select(seed_built, """SELECT ?title ?date ?url ?author WHERE {
        ?w ckg:footnote 4 ; ckg:title ?title ; ckg:url ?url ;
           ckg:publicationDate/ckg:edtf ?date ; ckg:author/skos:prefLabel ?author }""")
    assert guardian == [{"title": "Iran admits unintentionally shooting down Ukrainian airliner",
                         "date": "2020-01-11", "author": "Bethan McKernan",
                         "url": "https://www.theguardian.com/world/2020/jan/11/"
                                "iran-admits-shooting-down-ukrainian-airliner-unintentionally"}]


# --- provenance and the shape of the graph ----------------------------------------------------


def test_every_quote_in_the_store_is_exact(seed_built: Settings) -> None:
    texts = {doc: (DOCUMENTS / name).read_bytes().decode("utf-8") for name, doc in SEEDS.items()}
    rows = select(seed_built, """SELECT ?doc ?exact ?start ?end WHERE {
        ?t oa:hasSource ?doc ; oa:hasSelector ?q, ?p .
        ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end }""")
    assert len(rows) > 1000
    for row in rows:
        text = texts[row["doc"].rsplit("/", 1)[1]]
        assert text[int(row["start"]) : int(row["end"])] == row["exact"]


def test_everything_has_evidence(seed_built: Settings) -> None:
    stats = store_stats(seed_built)
    assert stats.things > 250 and stats.with_evidence == stats.things
    assert stats.statements > 450 and stats.statements_with_evidence == stats.statements
    assert stats.facts > 400 and stats.quoted_facts == stats.facts


# rdflib's own N-Quads parser touches its deprecated Dataset.default_context.
@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated:DeprecationWarning")
def test_graph_reads_in_rdflib(seed_built: Settings) -> None:
    """The provenance model needs nothing beyond RDF 1.1: rdflib reads the whole dataset."""
    store = ReadStore.open_current(seed_built.store_dir)
    quads = list(store.quads())
    data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    dataset = rdflib.Dataset()
    dataset.parse(data=data.decode("utf-8"), format="nquads")
    assert sum(1 for _ in dataset.quads((None, None, None, None))) == len(quads)
    graphs = {str(g.identifier) for g in dataset.graphs()}
    assert {NS.graph("dead-heat"), NS.graph("us-reaps-more"), NS.graph("ontology"),
            NS.graph("inferred")} <= graphs


def test_a_fact_two_documents_state_counts_once(seed_built: Settings) -> None:
    """The default graph is the union of the documents' graphs as a set (oxigraph#1919)."""
    in_graphs = select(seed_built, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{
        res:qassem-soleimani skos:prefLabel ?label }} FILTER(?g != <{NS.graph("inferred")}>) }}""")
    in_union = select(seed_built, """SELECT (COUNT(*) AS ?n) WHERE {
        res:qassem-soleimani skos:prefLabel ?label }""")
    assert (in_graphs, in_union) == ([{"n": "2"}], [{"n": "1"}])


@pytest.mark.parametrize("document", sorted(SEEDS.values()))
def test_each_document_graph_holds_its_own_evidence_only(seed_built: Settings,
                                                         document: str) -> None:
    assert not ask(seed_built, f"""ASK {{ GRAPH <{NS.graph(document)}> {{
        ?t oa:hasSource ?doc FILTER(?doc != res:{document}) }} }}""")
