"""The 34 tests of the W3C SPARQL 1.1 Protocol suite, against a live `kg serve` over HTTP.

One test per entry of the suite's manifest (w3c/rdf-tests, sparql/sparql11/protocol), named
after it, with the same request shape and expectation: method, parameters, content type and
body; status class, result format and, for ASK, the answer. The suite's data are three graphs,
each stating that the graph's own IRI is a foaf:Document; here they have IRIs of our own. No
package on the registries these machines reach bundles the manifest (rdflib's sdist carries a
stub without requests), so the requests are written out here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
import pytest
import requests

from kg.store import Manifest, write_build

G1, G2, G3 = (f"https://example.org/protocol/data{i}" for i in (1, 2, 3))
MISSING = "https://example.org/protocol/data0"  # a graph the suite names but never fills
FORM = {"content-type": "application/x-www-form-urlencoded"}
QUERY = {"content-type": "application/sparql-query"}
UPDATE = {"content-type": "application/sparql-update"}
BOOLEAN = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR = BOOLEAN | {"text/csv", "text/tab-separated-values"}
RDF = {"application/rdf+xml", "text/turtle", "application/n-triples"}
TOKEN = "w3c-protocol-test-admin-token"


@dataclass(frozen=True)
class Step:
    """One request and what its response must be."""

    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    ok: bool = True  # a 2xx/3xx answer is expected, else a 4xx one
    formats: set[str] | None = None
    boolean: bool | None = None


def _ask_body(text: str) -> bytes:
    return text.encode("utf-8")


T = "https://example.org/protocol/update-test/"
DC, FOAF = "PREFIX dc: <http://purl.org/dc/terms/>", "PREFIX foaf: <http://xmlns.com/foaf/0.1/>"
THREE_DOCUMENTS = "INSERT DATA { " + " ".join(
    f"GRAPH <{g}> {{ <{g}> a foaf:Document }}" for g in (G1, G2, G3)) + " }"


def _first_two(graph: str) -> bytes:
    """ASK: the first two documents, and not the third, are BibliographicResources in `graph`."""
    resource = "<http://purl.org/dc/terms/BibliographicResource>"
    return (f"ASK {{ GRAPH <{graph}> {{ <{G1}> a {resource} . <{G2}> a {resource} . }}"
            f" FILTER NOT EXISTS {{ GRAPH <{graph}> {{ <{G3}> a {resource} }} }} }}").encode()


BOTH_DEFAULT = f"ASK {{ <{G1}> a ?type . <{G2}> a ?type . }}"
BOTH_NAMED = f"ASK {{ GRAPH ?g1 {{ <{G1}> a ?type }} GRAPH ?g2 {{ <{G2}> a ?type }} }}"

SUITE: dict[str, list[Step]] = {
    "query_post_form": [Step("POST", "/sparql", [("default-graph-uri", MISSING)], FORM,
                             b"query=ASK%20%7B%7D", formats=BOOLEAN, boolean=True)],
    "query_dataset_default_graphs_get": [Step(
        "GET", "/sparql", [("query", BOTH_DEFAULT), ("default-graph-uri", G1),
                           ("default-graph-uri", G2)], formats=BOOLEAN, boolean=True)],
    "query_dataset_default_graphs_post": [Step(
        "POST", "/sparql", [("default-graph-uri", G1), ("default-graph-uri", G2)], QUERY,
        _ask_body(BOTH_DEFAULT), formats=BOOLEAN, boolean=True)],
    "query_dataset_named_graphs_post": [Step(
        "POST", "/sparql", [("named-graph-uri", G1), ("named-graph-uri", G2)], QUERY,
        _ask_body(BOTH_NAMED), formats=BOOLEAN, boolean=True)],
    "query_dataset_named_graphs_get": [Step(
        "GET", "/sparql", [("query", BOTH_NAMED), ("named-graph-uri", G1),
                           ("named-graph-uri", G2)], formats=BOOLEAN, boolean=True)],
    "query_dataset_full": [Step(
        "POST", "/sparql", [("default-graph-uri", G3), ("named-graph-uri", G1),
                            ("named-graph-uri", G2)], QUERY,
        _ask_body(f"ASK {{ <{G3}> a ?type GRAPH ?g1 {{ <{G1}> a ?type }} "
                  f"GRAPH ?g2 {{ <{G2}> a ?type }} }}"), formats=BOOLEAN, boolean=True)],
    # The protocol's dataset wins over the query's FROM.
    "query_multiple_dataset": [Step(
        "POST", "/sparql", [("named-graph-uri", G1), ("named-graph-uri", G2)], QUERY,
        _ask_body(f"ASK FROM <{G3}> {{ GRAPH ?g1 {{ <{G1}> a ?type }} "
                  f"GRAPH ?g2 {{ <{G2}> a ?type }} }}"), formats=BOOLEAN, boolean=True)],
    "query_get": [Step("GET", "/sparql", [("query", "ASK {}"), ("default-graph-uri", MISSING)],
                       formats=BOOLEAN, boolean=True)],
    "query_content_type_select": [Step("POST", "/sparql", [("default-graph-uri", MISSING)],
                                       QUERY, b"SELECT (1 AS ?value) {}", formats=TABULAR)],
    "query_content_type_ask": [Step("POST", "/sparql", [("default-graph-uri", MISSING)], QUERY,
                                    b"ASK {}", formats=BOOLEAN)],
    "query_content_type_describe": [Step("POST", "/sparql", [("default-graph-uri", MISSING)],
                                         QUERY, b"DESCRIBE <http://example.org/>",
                                         formats=RDF)],
    "query_content_type_construct": [Step("POST", "/sparql", [("default-graph-uri", MISSING)],
                                          QUERY, b"CONSTRUCT { <s> <p> 1 } WHERE {}",
                                          formats=RDF)],
    "update_dataset_default_graph": [
        Step("POST", "/update", [("using-graph-uri", G1)], UPDATE, (
            f"{DC} {FOAF} CLEAR ALL ; INSERT DATA {{ GRAPH <{G1}> {{ <{G1}> a foaf:Document }} }} ;"
            f" INSERT {{ GRAPH <{T}default> {{ ?s a dc:BibliographicResource }} }}"
            " WHERE { ?s a foaf:Document }").encode()),
        Step("POST", "/sparql", [], QUERY, (
            f"ASK {{ GRAPH <{T}default> {{ <{G1}> a <http://purl.org/dc/terms/"
            "BibliographicResource> } }").encode(), formats=BOOLEAN, boolean=True)],
    "update_dataset_default_graphs": [
        Step("POST", "/update", [("using-graph-uri", G1), ("using-graph-uri", G2)], UPDATE, (
            f"{DC} {FOAF} DROP ALL ; {THREE_DOCUMENTS} ;"
            f" INSERT {{ GRAPH <{T}graphs> {{ ?s a dc:BibliographicResource }} }}"
            " WHERE { ?s a foaf:Document }").encode()),
        Step("POST", "/sparql", [], QUERY, _first_two(f"{T}graphs"), formats=BOOLEAN,
             boolean=True)],
    "update_dataset_named_graphs": [
        Step("POST", "/update", [("using-named-graph-uri", G1), ("using-named-graph-uri", G2)],
             UPDATE, (f"{DC} {FOAF} DROP ALL ; {THREE_DOCUMENTS} ;"
                      f" INSERT {{ GRAPH <{T}named> {{ ?s a dc:BibliographicResource }} }}"
                      " WHERE { GRAPH ?g { ?s a foaf:Document } }").encode()),
        Step("POST", "/sparql", [], QUERY, _first_two(f"{T}named"), formats=BOOLEAN,
             boolean=True)],
    "update_dataset_full": [
        Step("POST", "/update", [("using-graph-uri", G1), ("using-named-graph-uri", G2)],
             UPDATE, (f"{DC} {FOAF} DROP ALL ; {THREE_DOCUMENTS} ;"
                      f" INSERT {{ GRAPH <{T}full> {{ ?s <http://example.org/in> ?in }} }}"
                      " WHERE { { GRAPH ?g { ?s a foaf:Document } BIND(?g AS ?in) } UNION"
                      ' { ?s a foaf:Document . BIND("default" AS ?in) } }').encode()),
        Step("POST", "/sparql", [], QUERY, (
            f'ASK {{ GRAPH <{T}full> {{ <{G1}> <http://example.org/in> "default" .'
            f" <{G2}> <http://example.org/in> <{G2}> . }}"
            f" FILTER NOT EXISTS {{ GRAPH <{T}full> {{ <{G3}> ?p ?o }} }} }}").encode(),
            formats=BOOLEAN, boolean=True)],
    "update_post_form": [Step("POST", "/update", [], FORM, b"update=CLEAR+ALL")],
    "update_post_direct": [Step("POST", "/update", [], UPDATE, b"CLEAR ALL")],
    # A relative IRI in an update resolves against the service's base, here the endpoint.
    "update_base_uri": [
        Step("POST", "/update", [], UPDATE, (
            f"CLEAR SILENT GRAPH <{T}base> ; INSERT DATA {{ GRAPH <{T}base> {{"
            " <http://example.org/s> <http://example.org/p> <test> } }").encode()),
        Step("POST", "/sparql", [], QUERY, (
            f"ASK {{ GRAPH <{T}base> {{ <http://example.org/s> <http://example.org/p> ?o"
            ' FILTER (isIRI(?o) && STR(?o) != "test") } }').encode(),
            formats=BOOLEAN, boolean=True)],
    "query_post_direct": [Step("POST", "/sparql", [], QUERY, b"ASK {}", formats=BOOLEAN,
                               boolean=True)],
    "bad_query_method": [Step("PUT", "/sparql", [("query", "ASK {}"),
                                                 ("default-graph-uri", MISSING)], FORM, ok=False)],
    "bad_multiple_queries": [Step("GET", "/sparql", [("query", "ASK {}"),
                                                     ("query", "SELECT * {}")], ok=False)],
    "bad_query_wrong_media_type": [Step("POST", "/sparql", [], {"content-type": "text/plain"},
                                        b"ASK {}", ok=False)],
    "bad_query_missing_form_type": [Step("POST", "/sparql", [], {}, b"query=ASK%20%7B%7D",
                                         ok=False)],
    "bad_query_missing_direct_type": [Step("POST", "/sparql", [], {}, b"ASK {}", ok=False)],
    "bad_query_non_utf8": [Step("POST", "/sparql", [],
                                {"content-type": "application/sparql-query; charset=UTF-16"},
                                "ASK {}".encode("utf-16"), ok=False)],
    "bad_query_syntax": [Step("GET", "/sparql", [("query", "ASK {")], ok=False)],
    "bad_update_get": [Step("GET", "/update", [("update", "CLEAR ALL")], ok=False)],
    "bad_multiple_updates": [Step("POST", "/update", [], FORM,
                                  b"update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", ok=False)],
    "bad_update_wrong_media_type": [Step("POST", "/update", [], {"content-type": "text/plain"},
                                         b"CLEAR NAMED", ok=False)],
    "bad_update_missing_form_type": [Step("POST", "/update", [], {}, b"update=CLEAR%20NAMED",
                                          ok=False)],
    "bad_update_non_utf8": [Step("POST", "/update", [],
                                 {"content-type": "application/sparql-update; charset=UTF-16"},
                                 "CLEAR NAMED".encode("utf-16"), ok=False)],
    "bad_update_syntax": [Step("POST", "/update", [], UPDATE, b"CLEAR XYZ", ok=False)],
    "bad_update_dataset_conflict": [Step(
        "POST", "/update", [("using-graph-uri", G1)], UPDATE,
        f"CLEAR ALL ; INSERT {{ GRAPH <{G1}> {{ <s> <p> 1 }} }} USING <{G2}> WHERE {{}}".encode(),
        ok=False)],
}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`kg serve` over a store with the suite's three graphs."""
    store_dir = tmp_path_factory.mktemp("w3c-store")
    document = ox.NamedNode("http://xmlns.com/foaf/0.1/Document")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    quads = [ox.Quad(ox.NamedNode(g), rdf_type, document, ox.NamedNode(g)) for g in (G1, G2, G3)]
    write_build(store_dir, "20000101T000000000000Z-w3c", quads,
                Manifest("w3c", "w3c-protocol", "2000-01-01T00:00:00+00:00", {}))
    from conftest import serve

    yield from serve(store_dir, KG_ADMIN_TOKEN=TOKEN)


def _check(step: Step, response: requests.Response) -> None:
    if not step.ok:
        assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
        return
    assert 200 <= response.status_code < 400, (response.status_code, response.text[:300])
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    if step.formats is not None:
        assert media_type in step.formats
    if step.boolean is not None:
        parsed = ox.parse_query_results(response.content,
                                        ox.QueryResultsFormat.from_media_type(media_type))
        assert bool(parsed) is step.boolean


@pytest.mark.parametrize("name", list(SUITE))
def test_w3c_protocol(endpoint: str, name: str) -> None:
    for step in SUITE[name]:
        # The suite's updates carry no credentials; this endpoint takes writes with a token.
        auth = {"Authorization": f"Bearer {TOKEN}"} if step.path == "/update" else {}
        response = requests.request(step.method, endpoint + step.path, params=step.params,
                                    headers={**step.headers, **auth}, data=step.body,
                                    timeout=30, allow_redirects=False)
        _check(step, response)


def test_the_suite_has_its_34_tests() -> None:
    assert len(SUITE) == 34


@pytest.mark.parametrize(("params", "query"), [
    ([("default-graph-uri", G1)], f"ASK {{ <{G2}> a ?type }}"),
    ([("named-graph-uri", G1)], f"ASK {{ GRAPH ?g {{ <{G2}> a ?type }} }}"),
])
def test_the_protocol_dataset_also_leaves_graphs_out(endpoint: str, params: list[tuple[str, str]],
                                                     query: str) -> None:
    """Beyond the suite: graphs the protocol does not name are not in the dataset."""
    written = requests.post(
        f"{endpoint}/update", timeout=30, headers={"Authorization": f"Bearer {TOKEN}"},
        data={"update": THREE_DOCUMENTS.replace("foaf:Document",
                                                "<http://xmlns.com/foaf/0.1/Document>")})
    assert written.status_code == 204
    named = [(key, G2) for key, _ in params]  # the same request naming the graph that has it
    for dataset, expected in ((params, False), (named, True)):
        response = requests.get(f"{endpoint}/sparql", params=[("query", query), *dataset],
                                timeout=10)
        assert response.json()["boolean"] is expected, dataset
