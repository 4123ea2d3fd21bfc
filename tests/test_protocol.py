"""The SPARQL 1.1 Protocol as clients use it: methods, datasets, formats, errors, description."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.namespaces import Namespaces
from kg.settings import Settings
from server import create_app

NS = Namespaces()
VICTIMS = ("SELECT ?victim WHERE { res:killing-of-qassem-soleimani ckg:hasVictim ?victim } "
           "ORDER BY ?victim")
VICTIM_IRIS = [NS.resource("abu-mahdi-al-muhandis"), NS.resource("qassem-soleimani")]
CONSTRUCT = "CONSTRUCT WHERE { res:qassem-soleimani skos:prefLabel ?label }"


def _victims(body: bytes) -> list[str]:
    return [b["victim"]["value"] for b in json.loads(body)["results"]["bindings"]]


def test_get_post_form_and_post_direct_give_the_same_answer(client: FlaskClient) -> None:
    get = client.get("/sparql", query_string={"query": VICTIMS})
    form = client.post("/sparql", data={"query": VICTIMS})
    direct = client.post("/sparql", data=VICTIMS.encode(),
                         content_type="application/sparql-query")
    assert [_victims(r.data) for r in (get, form, direct)] == [VICTIM_IRIS] * 3


@pytest.mark.parametrize(("accept", "media_type"), [
    (None, "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.4, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/json", "application/sparql-results+json"),
])
def test_select_formats_by_accept(client: FlaskClient, accept: str | None,
                                  media_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": VICTIMS}, headers=headers)
    assert (response.status_code, response.mimetype) == (200, media_type)
    assert response.headers["Vary"] == "Accept"


def test_each_select_format_carries_the_answer(client: FlaskClient) -> None:
    csv_body = client.get("/sparql", query_string={"query": VICTIMS, "format": "csv"}).data
    assert list(csv.reader(io.StringIO(csv_body.decode()))) == [["victim"],
                                                                *([v] for v in VICTIM_IRIS)]
    for fmt in ("xml", "tsv"):
        body = client.get("/sparql", query_string={"query": VICTIMS, "format": fmt}).data
        parsed = ox.parse_query_results(body, ox.QueryResultsFormat.XML if fmt == "xml"
                                        else ox.QueryResultsFormat.TSV)
        assert [s["victim"].value for s in parsed] == VICTIM_IRIS  # type: ignore[union-attr]


@pytest.mark.parametrize(("accept", "fmt"), [
    (None, ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG),
    ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_in_every_rdf_format(client: FlaskClient, accept: str | None,
                                       fmt: ox.RdfFormat) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": CONSTRUCT}, headers=headers)
    assert response.mimetype == fmt.media_type
    labels = {q.object.value for q in ox.parse(response.data, fmt)}
    assert labels == {"Qassem Soleimani"}


def test_describe_defaults_to_turtle(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "DESCRIBE res:esmail-qaani"})
    assert response.mimetype == "text/turtle"
    assert any(t.predicate.value == NS.term("evidence")
               for t in ox.parse(response.data, ox.RdfFormat.TURTLE))


def test_ask_in_json_and_xml_but_not_csv(client: FlaskClient) -> None:
    ask = "ASK { res:qassem-soleimani ckg:succeededBy res:esmail-qaani }"
    assert client.get("/sparql", query_string={"query": ask}).get_json() == \
        {"head": {}, "boolean": True}
    xml = client.get("/sparql", query_string={"query": ask, "format": "xml"})
    assert b"<boolean>true</boolean>" in xml.data
    refused = client.get("/sparql", query_string={"query": ask}, headers={"Accept": "text/csv"})
    assert refused.status_code == 406
    assert "application/sparql-results+json" in refused.get_json()["message"]


def test_default_graph_uri_narrows_the_dataset(client: FlaskClient) -> None:
    ask = "ASK { res:qassem-soleimani skos:altLabel 'Qassim Soleimani'@en }"
    whole = client.get("/sparql", query_string={"query": ask}).get_json()["boolean"]
    first_article = client.get("/sparql", query_string={
        "query": "ASK { res:james-m-dorsey a ckg:Person }",
        "default-graph-uri": NS.graph("dead-heat")}).get_json()["boolean"]
    second_article = client.get("/sparql", query_string={
        "query": "ASK { res:james-m-dorsey a ckg:Person }",
        "default-graph-uri": NS.graph("us-reaps-more")}).get_json()["boolean"]
    assert (whole, first_article, second_article) == (True, False, True)


def test_named_graph_uri_limits_graph_patterns(client: FlaskClient) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { res:james-m-dorsey ?p ?o } }"
    rows = client.get("/sparql", query_string={
        "query": query, "named-graph-uri": NS.graph("us-reaps-more")}).get_json()
    assert [b["g"]["value"] for b in rows["results"]["bindings"]] == [NS.graph("us-reaps-more")]


@pytest.mark.parametrize(("request_kwargs", "status", "message"), [
    ({"method": "PUT", "query_string": {"query": "ASK {}"}}, 405, None),
    ({"method": "POST", "data": "ASK {}", "content_type": "text/plain"}, 415,
     "a query is POSTed as application/x-www-form-urlencoded"),
    ({"method": "POST", "data": "ASK {}"}, 415, "not as a body without Content-Type"),
    ({"method": "POST", "data": "ASK {}".encode("utf-16"),
      "content_type": "application/sparql-query; charset=UTF-16"}, 415,
     "the query must be UTF-8, not utf-16"),
    ({"method": "POST", "data": b"ASK { \xff }", "content_type": "application/sparql-query"},
     400, "the query is not valid UTF-8 (byte 6)"),
    ({"method": "GET", "query_string": {"update": "CLEAR ALL"}}, 400,
     "this is the query endpoint: send updates by POST to /update"),
    ({"method": "GET", "query_string": {"query": "ASK {}", "default-graph-uri": "not an iri"}},
     400, "'not an iri' is not a valid graph IRI"),
    ({"method": "GET", "query_string": {"query": "SELECT * WHERE { ?s ?p }"}}, 400,
     "the query does not parse: error at 1:"),
])
def test_protocol_errors_are_4xx_with_a_message(client: FlaskClient, request_kwargs: dict,
                                                status: int, message: str | None) -> None:
    response = client.open("/sparql", **request_kwargs)
    assert response.status_code == status
    if message:
        assert message in response.get_json()["message"]


def test_a_body_over_the_limit_is_413(client: FlaskClient) -> None:
    huge = "ASK {} #" + "x" * (1024 * 1024)
    response = client.post("/sparql", data=huge, content_type="application/sparql-query")
    assert response.status_code == 413


def test_updates_are_refused_on_a_read_only_endpoint(client: FlaskClient) -> None:
    refused = client.post("/update", data="CLEAR ALL", content_type="application/sparql-update")
    assert refused.status_code == 403
    assert refused.get_json()["message"] == "this endpoint is read-only: writes are not enabled"
    assert client.get("/update", query_string={"update": "CLEAR ALL"}).status_code == 405


def test_service_description_lists_formats_and_graphs(client: FlaskClient) -> None:
    response = client.get("/sparql")
    assert response.mimetype == "text/turtle"
    store = ox.Store()
    store.load(response.data, ox.RdfFormat.TURTLE)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    graphs = {r["g"].value for r in store.query(  # type: ignore[union-attr]
        f"SELECT ?g {{ ?s <{sd}defaultDataset>/<{sd}namedGraph>/<{sd}name> ?g }}")}
    assert graphs == {NS.graph(g) for g in ("dead-heat", "us-reaps-more", "ontology", "links",
                                            "inferred")}
    assert store.query(f"ASK {{ ?s <{sd}resultFormat> "
                       "<http://www.w3.org/ns/formats/SPARQL_Results_CSV> ; "
                       f"<{sd}feature> <{sd}UnionDefaultGraph> }}")


def test_a_browser_gets_a_query_form(client: FlaskClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.mimetype == "text/html"
    assert b'<textarea id="query" name="query"' in response.data


def test_reads_are_open_to_other_origins(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "ASK {}"},
                          headers={"Origin": "https://yasgui.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/sparql", headers={
        "Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_health_names_the_build(client: FlaskClient) -> None:
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and len(body["dataset_version"]) == 16


@pytest.fixture
def capped(app: Flask) -> FlaskClient:
    """The app with a row cap of 3, on each backend."""
    settings = replace(app.config["KG_SETTINGS"], row_cap=3)
    return create_app({"KG_SETTINGS": settings, "TESTING": True}).test_client()


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_solutions_beyond_the_cap_are_cut_and_flagged(capped: FlaskClient, fmt: str) -> None:
    response = capped.get("/sparql", query_string={
        "query": "SELECT ?x WHERE { ?x a ckg:Person } ORDER BY ?x", "format": fmt})
    assert response.headers["KG-Result-Truncated"] == "true; rows=3"
    results_format = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                      "csv": None, "tsv": ox.QueryResultsFormat.TSV}[fmt]
    if results_format is None:
        assert len(response.data.decode().strip().split("\r\n")) == 1 + 3
    else:
        solutions = list(ox.parse_query_results(response.data, results_format))  # type: ignore[arg-type]
        assert len(solutions) == 3
        assert solutions[0]["x"].value == NS.resource("abu-mahdi-al-muhandis")


def test_a_graph_beyond_the_cap_is_cut_and_flagged(capped: FlaskClient) -> None:
    response = capped.get("/sparql", query_string={
        "query": "CONSTRUCT WHERE { ?x a ckg:Person }"})
    assert response.headers["KG-Result-Truncated"] == "true; rows=3"
    assert len(list(ox.parse(response.data, ox.RdfFormat.TURTLE))) == 3


def test_an_answer_within_the_cap_is_not_flagged(capped: FlaskClient) -> None:
    for query in ("SELECT ?v WHERE { VALUES ?v { 1 2 3 } }", "ASK {}",
                  "CONSTRUCT { res:x res:y 1, 2, 3 } WHERE {}"):
        response = capped.get("/sparql", query_string={"query": query})
        assert response.status_code == 200
        assert "KG-Result-Truncated" not in response.headers


def test_a_repeated_query_has_an_etag_and_is_answered_304(client: FlaskClient) -> None:
    first = client.get("/sparql", query_string={"query": VICTIMS})
    etag = first.headers["ETag"]
    assert _victims(first.data) == VICTIM_IRIS
    again = client.get("/sparql", query_string={"query": VICTIMS})
    assert (again.headers["ETag"], _victims(again.data)) == (etag, VICTIM_IRIS)
    assert client.get("/sparql", query_string={"query": VICTIMS},
                      headers={"If-None-Match": etag}).status_code == 304
    other_format = client.get("/sparql", query_string={"query": VICTIMS, "format": "csv"})
    assert other_format.headers["ETag"] != etag


def test_a_rebuild_changes_the_etag(mini_settings: Settings) -> None:
    from kg.build import build

    build(mini_settings)
    client = create_app({"KG_SETTINGS": mini_settings, "TESTING": True}).test_client()
    query = {"query": "SELECT ?l WHERE { res:ann-example skos:prefLabel ?l }"}
    before = client.get("/sparql", query_string=query)
    document = mini_settings.corpus_dir / "documents" / "mini.yaml"
    document.write_text(document.read_text().replace("label: Ann Example", "label: Ann"))
    build(mini_settings)
    after = client.get("/sparql", query_string=query,
                       headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert b'"Ann"' in after.data


def test_metrics_count_answers_by_outcome(client: FlaskClient) -> None:
    def count(outcome: str) -> float:
        text = client.get("/metrics").data.decode()
        prefix = f'kg_sparql_answers_total{{outcome="{outcome}"}} '
        return float(next((line[len(prefix):] for line in text.splitlines()
                           if line.startswith(prefix)), "0"))

    before = {o: count(o) for o in ("ok", "cache_hit", "error")}
    query = {"query": "SELECT ?p WHERE { res:esmail-qaani ?p ?o } LIMIT 1"}
    for _ in range(2):
        assert client.get("/sparql", query_string=query).data  # read: an answer is cached
    client.get("/sparql", query_string={"query": "SELECT nonsense"})
    after = {o: count(o) for o in ("ok", "cache_hit", "error")}
    assert {o: after[o] - before[o] for o in after} == {"ok": 1, "cache_hit": 1, "error": 1}


def test_media_type_parameters_do_not_defeat_negotiation(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": VICTIMS},
                          headers={"Accept": "application/sparql-results+json; charset=utf-8"})
    assert (response.status_code, response.mimetype) == (200, "application/sparql-results+json")


def test_a_format_refused_with_q0_is_not_chosen(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": VICTIMS}, headers={
        "Accept": "application/sparql-results+json;q=0, */*;q=0.1"})
    # the next format SELECT results come in
    assert (response.status_code, response.mimetype) == (200, "application/sparql-results+xml")


def test_format_may_come_with_a_form_post(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": VICTIMS, "format": "csv"})
    assert response.mimetype == "text/csv"


def test_a_head_request_has_the_headers_of_the_get_and_no_body(client: FlaskClient) -> None:
    query = {"query": "SELECT * { ?s ?p ?o } LIMIT 5"}
    get = client.get("/sparql", query_string=query)
    head = client.head("/sparql", query_string=query)
    assert head.status_code == 200 and head.get_data() == b""
    for header in ("Content-Type", "Content-Length", "ETag"):
        assert head.headers[header] == get.headers[header]
    assert int(get.headers["Content-Length"]) == len(get.get_data()) > 0


def test_a_rebuild_of_the_same_corpus_still_changes_the_etag(mini_settings: Settings) -> None:
    from kg.build import build

    build(mini_settings)
    client = create_app({"KG_SETTINGS": mini_settings, "TESTING": True}).test_client()
    query = {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}
    first = client.get("/sparql", query_string=query)
    first.get_data()
    build(mini_settings)  # same inputs, same dataset version, another build
    second = client.get("/sparql", query_string=query)
    assert second.headers["ETag"] != first.headers["ETag"]


def _count(client: FlaskClient, query: str, **dataset: str) -> int:
    answer = client.get("/sparql", query_string={"query": query, **dataset}).get_json()
    return int(answer["results"]["bindings"][0]["n"]["value"])


def test_a_protocol_dataset_replaces_the_store_s_on_either_side(client: FlaskClient) -> None:
    """As the SPARQL 1.1 Protocol says, and as any server does: with default-graph-uri alone
    there are no named graphs; with named-graph-uri alone the default graph is empty."""
    graphs = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    triples = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    links = NS.graph("links")
    assert _count(client, graphs) >= 5
    assert _count(client, graphs, **{"default-graph-uri": links}) == 0
    assert _count(client, triples, **{"default-graph-uri": links}) > 0
    assert _count(client, triples, **{"named-graph-uri": links}) == 0
    assert _count(client, graphs, **{"named-graph-uri": links}) == 1
