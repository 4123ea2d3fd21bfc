"""The minimal SPARQL endpoint, through the Flask test client and over real loopback HTTP."""

from __future__ import annotations

import socket

import pytest
import requests
from flask.testing import FlaskClient
from SPARQLWrapper import JSON, SPARQLWrapper

from kg.build import build
from kg.settings import Settings
from server import create_app

ASK_VICTIM = ("ASK { res:killing-of-qassem-soleimani ckg:hasVictim res:qassem-soleimani }")


def test_select_answers_with_sparql_json(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={
        "query": "SELECT ?label WHERE { res:qassem-soleimani skos:prefLabel ?label }"})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    bindings = response.get_json()["results"]["bindings"]
    assert [b["label"]["value"] for b in bindings] == ["Qassem Soleimani"]


def test_ask_answers_a_boolean(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": ASK_VICTIM})
    assert response.get_json() == {"head": {}, "boolean": True}


def test_malformed_query_is_400_with_the_parser_message(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "SELEC ?x WHERE {}"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "QueryError"
    assert body["message"].startswith("the query does not parse: error at 1:1")


def test_missing_or_repeated_query_is_400(client: FlaskClient) -> None:
    missing = client.post("/sparql", data={"default-graph-uri": "https://example.org/g"})
    assert missing.status_code == 400
    assert missing.get_json()["message"] == "missing `query` parameter"
    repeated = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert repeated.status_code == 400
    assert repeated.get_json()["message"] == "give exactly one query, not 2"


def test_live_server_with_sparqlwrapper(live_server: str) -> None:
    endpoint = SPARQLWrapper(f"{live_server}/sparql")
    endpoint.setQuery("""
        PREFIX ckg: <https://w3id.org/crisiskg/ontology#>
        PREFIX res: <https://w3id.org/crisiskg/resource/>
        SELECT ?victim WHERE { res:killing-of-qassem-soleimani ckg:hasVictim ?victim }
        ORDER BY ?victim""")
    endpoint.setReturnFormat(JSON)
    endpoint.setMethod("GET")
    result = endpoint.queryAndConvert()
    victims = [b["victim"]["value"] for b in result["results"]["bindings"]]  # type: ignore[index]
    assert victims == ["https://w3id.org/crisiskg/resource/abu-mahdi-al-muhandis",
                       "https://w3id.org/crisiskg/resource/qassem-soleimani"]


def test_live_server_bad_query_is_400_not_500(live_server: str) -> None:
    response = requests.get(f"{live_server}/sparql", params={"query": "SELECT * WHERE { ?s"},
                            timeout=10)
    assert response.status_code == 400
    assert "does not parse" in response.json()["message"]


def test_service_is_refused_and_nothing_is_contacted(client: FlaskClient) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        response = client.get("/sparql", query_string={
            "query": f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> "
                     "{ ?s ?p ?o } }"})
        assert response.status_code == 400
        assert response.get_json()["message"] == (
            f"SERVICE <http://127.0.0.1:{port}/sparql> is not allowed on this endpoint; the "
            "allowed endpoints are https://query.wikidata.org/sparql, "
            "https://dbpedia.org/sparql (setting KG_SERVICE_ALLOW)")
        with pytest.raises(BlockingIOError):
            listener.accept()


def test_the_server_follows_a_rebuild(mini_settings: Settings) -> None:
    build(mini_settings)
    client = create_app({"KG_SETTINGS": mini_settings, "TESTING": True}).test_client()
    query = {"query": "SELECT ?l WHERE { res:ann-example skos:prefLabel ?l }"}

    def label() -> str:
        bindings = client.get("/sparql", query_string=query).get_json()["results"]["bindings"]
        return str(bindings[0]["l"]["value"])

    assert label() == "Ann Example"
    document = mini_settings.corpus_dir / "documents" / "mini.yaml"
    document.write_text(document.read_text().replace("label: Ann Example", "label: Ann"))
    build(mini_settings)
    assert label() == "Ann"


def test_live_server_with_rdflib_sparqlstore(live_server: str) -> None:
    from rdflib import URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(f"{live_server}/sparql", returnFormat="json", method="POST")
    rows = store.query("""
        PREFIX ckg: <https://w3id.org/crisiskg/ontology#>
        PREFIX res: <https://w3id.org/crisiskg/resource/>
        SELECT ?successor WHERE { res:qassem-soleimani ckg:succeededBy ?successor }""")
    assert [row[0] for row in rows] == [  # type: ignore[index]
        URIRef("https://w3id.org/crisiskg/resource/esmail-qaani")]


def test_another_store_federates_with_ours_through_service(live_server: str) -> None:
    """crisiskg as a member of a federation: a second store joins its data with ours."""
    import pyoxigraph as ox

    local = ox.Store()
    local.add(ox.Quad(ox.NamedNode("https://example.org/my-study"),
                      ox.NamedNode("https://example.org/about"),
                      ox.NamedNode("https://w3id.org/crisiskg/resource/qassem-soleimani")))
    rows = local.query(f"""
        SELECT ?person ?label WHERE {{
          <https://example.org/my-study> <https://example.org/about> ?person .
          SERVICE <{live_server}/sparql> {{
            ?person <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }} }}""")
    assert [(r["person"].value, r["label"].value) for r in rows] == [  # type: ignore[index]
        ("https://w3id.org/crisiskg/resource/qassem-soleimani", "Qassem Soleimani")]


def test_live_metrics_add_up_every_worker(live_server: str) -> None:
    def answered() -> float:
        text = requests.get(f"{live_server}/metrics", timeout=10).text
        return sum(float(line.split()[1]) for line in text.splitlines()
                   if line.startswith("kg_sparql_answers_total"))

    before = answered()
    for _ in range(8):  # a connection each, so both workers answer some
        requests.get(f"{live_server}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10,
                     headers={"Connection": "close"})
    assert answered() - before == 8


def test_gunicorn_outlasts_the_query_timeout() -> None:
    """gunicorn must not kill a worker that is waiting out a query; the query timeout decides."""
    from server.runner import _Gunicorn

    config = _Gunicorn(Settings(query_timeout=45)).cfg
    assert config.timeout == 75
    assert config.worker_class_str == "server.worker.KeepAliveWorker"


def test_kg_serve_opens_no_control_socket(embedded_server: str, seed_built: Settings) -> None:
    """gunicorn 25+ would open one at a path shared by every server of the user."""
    requests.get(f"{embedded_server}/health", timeout=10)
    log = (seed_built.store_dir / "serve.log").read_text(encoding="utf-8")
    assert "Listening at: " in log and "Control socket" not in log
