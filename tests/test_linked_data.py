"""Linked Data over real HTTP: every entity dereferences as a page with its quotes and as RDF
that matches the store; the ontology, vocabularies, graphs and documents dereference too."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib
import requests
from bs4 import BeautifulSoup
from helpers import NS, select

from kg.settings import Settings
from kg.store import ReadStore

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ENTITIES = """
SELECT DISTINCT ?x WHERE {
  GRAPH ?g { ?x a ?class }
  FILTER(STRSTARTS(STR(?class), STR(ckg:)) && STRSTARTS(STR(?x), STR(res:))
         && ?g != <https://w3id.org/crisiskg/graph/inferred>)
} ORDER BY ?x
"""


def _address(live_server: str, iri: str) -> str:
    return live_server + "/" + iri[len(NS.base):]


def _store_description(settings: Settings, iri: str) -> set[ox.Triple]:
    with ReadStore.open_current(settings.store_dir) as store:
        node = str(ox.NamedNode(iri))
        return set(store.query(f"CONSTRUCT {{ {node} ?p ?o . ?s ?q {node} }} WHERE {{ "
                               f"{{ {node} ?p ?o }} UNION {{ ?s ?q {node} }} }}"))


def test_every_entity_dereferences_as_a_page_with_a_quote_and_as_matching_turtle(
        seed_built: Settings, live_server: str) -> None:
    entities = [row["x"] for row in select(seed_built, ENTITIES)]
    assert len(entities) > 300
    session = requests.Session()
    without_quote = []
    for iri in entities:
        address = _address(live_server, iri)
        page = session.get(address, headers={"Accept": BROWSER}, timeout=30)
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        soup = BeautifulSoup(page.text, "html.parser")
        assert soup.find(id="iri").get_text() == iri
        if not soup.select("blockquote.quote mark"):
            without_quote.append(iri)
        turtle = session.get(address, headers={"Accept": "text/turtle"}, timeout=30)
        assert turtle.headers["Content-Type"].startswith("text/turtle")
        assert "Accept" in turtle.headers["Vary"]
        served = {ox.Triple(q.subject, q.predicate, q.object)
                  for q in ox.parse(turtle.content, ox.RdfFormat.TURTLE)}
        assert served == _store_description(seed_built, iri), iri
    assert without_quote == []


# rdflib's JSON-LD parser still builds a ConjunctiveGraph inside.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize(("suffix", "accept", "media_type", "rdflib_format"), [
    ("ttl", "text/turtle", "text/turtle", "turtle"),
    ("nt", "application/n-triples", "application/n-triples", "nt"),
    ("jsonld", "application/ld+json", "application/ld+json", "json-ld"),
    ("rdf", "application/rdf+xml", "application/rdf+xml", "xml"),
])
def test_a_resource_in_each_format_by_suffix_and_by_accept(
        seed_built: Settings, live_server: str, suffix: str, accept: str, media_type: str,
        rdflib_format: str) -> None:
    iri = NS.resource("killing-of-qassem-soleimani")
    expected = len(_store_description(seed_built, iri))
    for response in (requests.get(f"{_address(live_server, iri)}.{suffix}", timeout=30),
                     requests.get(_address(live_server, iri), headers={"Accept": accept},
                                  timeout=30)):
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(media_type)
        assert response.headers["Content-Location"].endswith(f"/killing-of-qassem-soleimani."
                                                             f"{suffix}")
        graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
        assert len(graph) == expected


def test_a_client_that_accepts_anything_gets_turtle(live_server: str) -> None:
    response = requests.get(f"{live_server}/resource/tehran", headers={"Accept": "*/*"},
                            timeout=30)
    assert response.headers["Content-Type"].startswith("text/turtle")


def test_an_unknown_resource_is_a_404_that_says_so(live_server: str) -> None:
    response = requests.get(f"{live_server}/resource/no-such-thing",
                            headers={"Accept": "application/json"}, timeout=30)
    assert response.status_code == 404
    assert response.json()["message"].startswith(
        "https://w3id.org/crisiskg/resource/no-such-thing is not in the graph")


def test_a_page_shows_facts_with_their_quotes_events_in_order_and_links(
        live_server: str) -> None:
    page = requests.get(f"{live_server}/resource/qassem-soleimani",
                        headers={"Accept": BROWSER}, timeout=30)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.find(id="label").get_text() == "Qassem Soleimani"
    row = next(tr for tr in soup.select("#outgoing tr") if tr.td and tr.td.get_text() ==
               "commands")
    quote = row.select_one("blockquote.quote")
    assert quote.mark.get_text() == "Qassem Soleimani, the head of Quds Force"
    # The quote sits in its whole sentence, and links to its place in the document, marked.
    assert quote.get_text().startswith("…By ordering the assassination on 3 January")
    link = quote.cite.a["href"]
    assert re.fullmatch(r"/resource/dead-heat\?quote=\d+-\d+#quote", link)
    document = BeautifulSoup(requests.get(live_server + link, headers={"Accept": BROWSER},
                                          timeout=30).text, "html.parser")
    marked = "".join(mark.get_text() for mark in document.select("#text mark"))
    assert marked == "Qassem Soleimani, the head of Quds Force"
    events = [li.get_text(" ", strip=True) for li in soup.select("#events li")]
    dated = [e for e in events if e[:4].isdigit()]
    assert dated == sorted(dated) and "2020-01-03 Killing of Qassem Soleimani" in dated
    links = [a["href"] for a in soup.select("#links a")]
    assert links == ["http://dbpedia.org/resource/Qasem_Soleimani"]
    assert "en.wikipedia.org/wiki/Qasem_Soleimani" in soup.select_one("#links").get_text()


def test_a_place_page_shows_its_coordinates_and_sources(live_server: str) -> None:
    page = requests.get(f"{live_server}/resource/tehran", headers={"Accept": BROWSER},
                        timeout=30)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.find(id="coordinates").get_text() == "Coordinates (WGS84): 35.69439, 51.42151"
    assert len(soup.select("#links tr")) == 4  # header + Wikidata, DBpedia, GeoNames


def test_a_claimed_statement_is_shown_as_a_claim(live_server: str) -> None:
    page = requests.get(f"{live_server}/resource/order-not-to-target-us-forces",
                        headers={"Accept": BROWSER}, timeout=30)
    soup = BeautifulSoup(page.text, "html.parser")
    claims = soup.select(".claim")
    assert claims and all("claimed by Pentagon" in c.get_text() for c in claims)


def test_a_document_page_shows_its_text_with_mentions_linked(live_server: str) -> None:
    page = requests.get(f"{live_server}/resource/dead-heat", headers={"Accept": BROWSER},
                        timeout=30)
    soup = BeautifulSoup(page.text, "html.parser")
    text = soup.find(id="text")
    assert text.get_text().startswith("‘Dead-heat’ for US and Iran")
    linked = {a["href"] for a in text.select("a.mention")}
    assert {"/resource/qassem-soleimani", "/resource/quds-force",
            "/resource/killing-of-qassem-soleimani"} <= linked
    # Overlapping mentions: "Soleimani killing" (the event) holds "Soleimani" (the person).
    title = next(a for a in text.select("a.mention") if a.get_text() == "Soleimani")
    assert title["href"] == "/resource/qassem-soleimani"
    assert "Killing of Qassem Soleimani" in title["title"]
    assert soup.select_one("#text mark") is None  # nothing marked without ?quote=


def test_the_ontology_as_documentation_turtle_and_rdf_xml(live_server: str) -> None:
    turtle = requests.get(f"{live_server}/ontology", headers={"Accept": "text/turtle"},
                          timeout=60)
    graph = rdflib.Graph().parse(data=turtle.content, format="turtle")
    person = rdflib.URIRef(NS.term("Person"))
    assert (person, rdflib.RDF.type, rdflib.OWL.Class) in graph
    xml = requests.get(f"{live_server}/ontology.rdf", timeout=60)
    assert xml.headers["Content-Type"].startswith("application/rdf+xml")
    assert len(rdflib.Graph().parse(data=xml.content, format="xml")) == len(graph)
    page = requests.get(f"{live_server}/ontology", headers={"Accept": BROWSER}, timeout=60)
    soup = BeautifulSoup(page.text, "html.parser")
    # A term's IRI (ontology#Person) dereferences to /ontology, at the term's anchor.
    terms = {str(s)[len(NS.term_prefix):] for s in graph.subjects(rdflib.RDF.type, None)
             if str(s).startswith(NS.term_prefix)}
    missing = sorted(t for t in terms if soup.find(id=t) is None)
    assert len(terms) > 100 and missing == []


def test_vocabulary_concepts_graphs_and_shapes_dereference(live_server: str) -> None:
    concept = requests.get(f"{live_server}/vocab/cameo/14", headers={"Accept": "text/turtle"},
                           timeout=30)
    assert "PROTEST" in concept.text
    links = requests.get(f"{live_server}/graph/links.nt", timeout=30)
    assert links.headers["Content-Type"].startswith("application/n-triples")
    assert "<http://www.w3.org/2002/07/owl#sameAs>" in links.text
    shapes = requests.get(f"{live_server}/shapes", timeout=30)
    assert len(rdflib.Graph().parse(data=shapes.content, format="turtle")) > 50
