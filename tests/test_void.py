"""The VoID/DCAT description, from a real server: every field, and the counts match the store."""

from __future__ import annotations

import pytest
import rdflib
import requests
from rdflib.namespace import DCAT, DCTERMS, RDF, VOID, XSD

from kg.settings import Settings
from kg.store import ReadStore

CKG = rdflib.Namespace("https://w3id.org/crisiskg/ontology#")
RES = rdflib.Namespace("https://w3id.org/crisiskg/resource/")
DATASET = rdflib.URIRef("https://w3id.org/crisiskg/dataset")
DCAT_VERSION = rdflib.URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; not in rdflib's
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def void(live_server: str) -> rdflib.Graph:
    response = requests.get(f"{live_server}/.well-known/void",
                            headers={"Accept": "text/turtle"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=response.text, format="turtle")


def _count(store: ReadStore, query: str) -> int:
    return int(next(iter(store.query(query)))["n"].value)


def test_it_says_what_the_dataset_is(void: rdflib.Graph, seed_built: Settings) -> None:
    assert {RDF.type: set(void.objects(DATASET, RDF.type))} == {
        RDF.type: {VOID.Dataset, DCAT.Dataset}}
    assert str(void.value(DATASET, DCTERMS.title)) == "crisiskg"
    assert "every fact points to the quote" in str(void.value(DATASET, DCTERMS.description))
    assert void.value(DATASET, DCTERMS.license) == \
        rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert str(void.value(DATASET, DCTERMS.creator)) == "crisiskg contributors"
    with ReadStore.open_current(seed_built.store_dir) as store:
        assert str(void.value(DATASET, DCAT_VERSION)) == store.manifest.dataset_version
        assert str(void.value(DATASET, DCTERMS.modified)) == store.manifest.created
        assert str(void.value(DATASET, DCTERMS.issued)) == store.manifest.created
    assert void.value(DATASET, DCTERMS.modified).datatype == XSD.dateTime
    assert set(void.objects(DATASET, DCTERMS.source)) == {RES["dead-heat"], RES["us-reaps-more"]}
    assert rdflib.URIRef("https://w3id.org/crisiskg/ontology#") in \
        set(void.objects(DATASET, VOID.vocabulary))
    assert len(set(void.objects(DATASET, VOID.exampleResource))) == 3


def test_its_counts_and_partitions_match_the_store(void: rdflib.Graph,
                                                  seed_built: Settings) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        assert int(void.value(DATASET, VOID.triples)) == _count(
            store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert int(void.value(DATASET, VOID.properties)) == _count(
            store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }")
        persons = _count(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a "
                                "<https://w3id.org/crisiskg/ontology#Person> }")
        victims = _count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s "
                                "<https://w3id.org/crisiskg/ontology#hasVictim> ?o }")
        graphs = {g: sum(1 for _ in store.quads(g)) for g in store.named_graphs()}
    person = next(void.subjects(VOID["class"], CKG.Person))
    assert (DATASET, VOID.classPartition, person) in void
    assert int(void.value(person, VOID.entities)) == persons
    victim = next(void.subjects(VOID.property, CKG.hasVictim))
    assert int(void.value(victim, VOID.triples)) == victims
    assert int(void.value(DATASET, VOID.entities)) == 326  # the seed graph's entities
    for graph, size in graphs.items():
        assert (DATASET, VOID.subset, rdflib.URIRef(graph)) in void
        assert int(void.value(rdflib.URIRef(graph), VOID.triples)) == size


def test_it_says_where_to_query_and_download(void: rdflib.Graph, live_server: str) -> None:
    endpoint = rdflib.URIRef(f"{live_server}/sparql")
    assert void.value(DATASET, VOID.sparqlEndpoint) == endpoint
    assert void.value(endpoint, DCAT.endpointURL) == endpoint
    dumps = set(void.objects(DATASET, VOID.dataDump))
    assert rdflib.URIRef(f"{live_server}/export/crisiskg.ttl") in dumps
    assert len(dumps) == 12
    for distribution in void.objects(DATASET, DCAT.distribution):
        address = str(void.value(distribution, DCAT.downloadURL))
        media_type = str(void.value(distribution, DCAT.mediaType)).rsplit("/", 2)[-2:]
        response = requests.head(address, timeout=120)
        assert response.status_code == 200, address
        compressed = void.value(distribution, DCAT.compressFormat)
        if address.endswith(".gz"):
            # DCAT: the media type of the data, and the compression apart.
            assert compressed == rdflib.URIRef(
                "https://www.iana.org/assignments/media-types/application/gzip")
            assert response.headers["Content-Type"] == "application/gzip"
        else:
            assert compressed is None
            assert response.headers["Content-Type"].split(";")[0] == "/".join(media_type)


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_dataset_answers_browsers_with_a_page_and_rdf_clients_with_rdf(live_server: str) -> None:
    page = requests.get(f"{live_server}/dataset", headers=BROWSER, timeout=60)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "void:triples" in page.text and "class partitions" in page.text
    as_jsonld = requests.get(f"{live_server}/dataset.jsonld", timeout=60)
    assert as_jsonld.headers["Content-Type"].startswith("application/ld+json")
    graph = rdflib.Graph().parse(data=as_jsonld.text, format="json-ld")
    assert (DATASET, RDF.type, VOID.Dataset) in graph
    unknown = requests.get(f"{live_server}/dataset.xlsx", timeout=60)
    assert unknown.status_code == 404
    assert "no description as .xlsx; ask for /dataset.jsonld" in unknown.json()["message"]
