"""A remote SPARQL server as the store: `kg build --to` pushes a build into a real Oxigraph
server, `kg serve --backend` serves it, and what goes wrong says what to do.

The HTTP-level tests of the endpoint, pages and saved queries run on both backends through the
parametrized `live_server` and `app` fixtures (conftest.BACKENDS); these are the remote-only
ones."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import MINI, PAIR, free_port, oxigraph_server

from kg.errors import QueryError
from kg.namespaces import Namespaces
from kg.remote import MANIFEST_GRAPH, Backend, RemoteStore, push_build
from kg.saved_queries import load_catalog
from kg.settings import Settings
from kg.store import ReadStore
from kg.values_binding import bind_by_values
from server import create_app

NS = Namespaces("https://w3id.org/crisiskg/")
QUERIES = Path(__file__).resolve().parent.parent / "queries"


@pytest.fixture
def fresh_backend(tmp_path: Path) -> Iterator[str]:
    """An empty Oxigraph server of this test's own; yields its query URL."""
    for url in oxigraph_server(tmp_path / "oxigraph"):
        yield f"{url}/query"


def _kg(*args: str, corpus: Path, store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_STORE_DIR": str(store), "KG_CORPUS_DIR": str(corpus)}
    return subprocess.run([sys.executable, "-m", "kg", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _ground(quads: Iterator[ox.Quad]) -> set[str]:
    # Blank nodes are named anew by each store: compare the statements without them.
    return {str(q) for q in quads if "_:" not in str(q)}


def _same_build(remote: RemoteStore, local: ReadStore) -> None:
    assert remote.manifest == local.manifest
    assert remote.named_graphs() == local.named_graphs()
    assert _ground(remote.quads()) == _ground(local.quads())
    assert len(remote) == len(local)  # the union default graph too
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert next(iter(remote.query(union)))["n"] == next(iter(local.query(union)))["n"]


def test_kg_build_to_pushes_the_build_and_a_second_build_replaces_it(
        fresh_backend: str, tmp_path: Path) -> None:
    store = tmp_path / "store"
    first = _kg("build", "--to", fresh_backend, corpus=PAIR, store=store)
    assert first.returncode == 0, first.stderr
    assert f"to {fresh_backend} (build " in first.stdout
    remote = RemoteStore.open(Backend.at(fresh_backend), tmp_path / "local")
    with ReadStore.open_current(store) as local:
        _same_build(remote, local)
    assert NS.graph("a") in remote.named_graphs() and MANIFEST_GRAPH not in remote.named_graphs()

    # The mini corpus has none of the pair's documents: their graphs go.
    second = _kg("build", "--to", fresh_backend, corpus=MINI, store=store)
    assert second.returncode == 0, second.stderr
    remote = RemoteStore.open(Backend.at(fresh_backend), tmp_path / "local")
    with ReadStore.open_current(store) as local:
        _same_build(remote, local)
    assert NS.graph("a") not in remote.named_graphs()


def _everything(query_url: str) -> bytes:
    """Every quad the backend holds, its own graphs' included."""
    query = ("SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } } "
             "ORDER BY ?g ?s ?p ?o")
    return requests.post(query_url, data={"query": query}, timeout=60,
                         headers={"Accept": "text/tab-separated-values"}).content


def test_a_push_that_fails_leaves_the_served_build_as_it_was(
        fresh_backend: str, tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _kg("build", "--to", fresh_backend, corpus=MINI, store=store).returncode == 0
    before = _everything(fresh_backend)
    env_store = f"{fresh_backend.removesuffix('/query')}/no-such-graph-store"
    failed = subprocess.run(
        [sys.executable, "-m", "kg", "build", "--to", fresh_backend],
        env={**os.environ, "KG_STORE_DIR": str(store), "KG_CORPUS_DIR": str(PAIR),
             "KG_BACKEND_STORE": env_store},
        capture_output=True, text=True, timeout=300, check=False)
    assert failed.returncode == 5, failed.stderr
    assert f"the backend at {env_store} answered 404" in failed.stderr
    assert _everything(fresh_backend) == before  # no staging graph left, nothing replaced


def test_kg_serve_refuses_a_backend_without_a_build(fresh_backend: str, tmp_path: Path) -> None:
    result = _kg("serve", "--backend", fresh_backend, "--port", str(free_port()),
                 corpus=MINI, store=tmp_path / "store")
    assert result.returncode == 5
    assert (f"kg: error: the backend at {fresh_backend} holds no crisiskg build; push one with "
            f"`kg build --to {fresh_backend}`") in result.stderr


def test_kg_build_to_refuses_a_malformed_url_before_building(tmp_path: Path) -> None:
    result = _kg("build", "--to", "127.0.0.1:7878", corpus=MINI, store=tmp_path / "store")
    assert result.returncode == 7
    assert "must be an absolute http(s) URL such as http://127.0.0.1:7878/query" in result.stderr
    assert not (tmp_path / "store").exists()


def test_a_backend_that_is_down_gets_a_503_that_says_so(seed_built: Settings,
                                                         tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/query"
    app = create_app({"KG_SETTINGS": replace(seed_built, store_dir=tmp_path, backend=down),
                      "TESTING": True})
    response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 503
    message = response.get_json()["message"]
    assert message.startswith(f"cannot reach the SPARQL backend at {down}: ")
    assert message.endswith("is it running?")


def test_update_and_store_urls_follow_the_query_url_or_must_be_given() -> None:
    oxigraph = Backend.at("http://127.0.0.1:7878/query")
    assert (oxigraph.update_url, oxigraph.store_url) == ("http://127.0.0.1:7878/update",
                                                         "http://127.0.0.1:7878/store")
    fuseki = Backend.at("http://h:3030/ds/sparql", "http://h:3030/ds/update",
                        "http://h:3030/ds/data")
    assert fuseki.store_url == "http://h:3030/ds/data"
    with pytest.raises(Exception, match="cannot tell the update URL of the backend "
                                        "http://h:8890/sparql: set KG_BACKEND_UPDATE"):
        Backend.at("http://h:8890/sparql")


# Binding values as text, for engines without pre-bound variables.

def test_every_saved_query_binds_by_values_as_by_substitution(seed_built: Settings) -> None:
    catalog = load_catalog(QUERIES, NS)
    compared = 0
    with ReadStore.open_current(seed_built.store_dir) as store:
        for saved in catalog.queries.values():
            bound = saved.substitutions({}, NS.prefixes())
            if "SERVICE" in saved.text or not bound:
                continue
            by_substitution = store.query(saved.text, prefixes=NS.prefixes(),
                                          substitutions=bound)
            by_values = store.query(bind_by_values(saved.text, bound), prefixes=NS.prefixes())
            ours = sorted(str([row[v] for v in by_substitution.variables])
                          for row in by_substitution)
            assert ours, saved.name
            assert sorted(str([row[v] for v in by_values.variables]) for row in by_values) \
                == ours, saved.name
            compared += 1
    assert compared >= 7  # every saved query with parameters


@pytest.mark.parametrize(("query", "expected"), [
    # Braces and WHERE inside strings, IRIs and comments are not the query's.
    ('# WHERE {\nSELECT * WHERE { ?x <http://x/WHERE> "WHERE {" }',
     '# WHERE {\nSELECT * WHERE { VALUES (?x) { (<http://a>) }\n ?x <http://x/WHERE> '
     '"WHERE {" }'),
    # An EXISTS group in the SELECT list comes before the WHERE group.
    ("SELECT (EXISTS { ?a ?b ?c } AS ?e) WHERE { ?x ?p ?o }",
     "SELECT (EXISTS { ?a ?b ?c } AS ?e) WHERE { VALUES (?x) { (<http://a>) }\n ?x ?p ?o }"),
    # WHERE may be left out; a CONSTRUCT's template is not its WHERE group.
    ("ASK { ?x ?p ?o }", "ASK { VALUES (?x) { (<http://a>) }\n ?x ?p ?o }"),
    ("CONSTRUCT { ?x ?p ?o } where { ?x ?p ?o }",
     "CONSTRUCT { ?x ?p ?o } where { VALUES (?x) { (<http://a>) }\n ?x ?p ?o }"),
])
def test_values_open_the_where_group(query: str, expected: str) -> None:
    bound = bind_by_values(query, {ox.Variable("x"): ox.NamedNode("http://a")})
    assert bound == expected
    ox.Store().query(bound)  # and it parses


def test_a_query_without_a_where_group_cannot_be_bound() -> None:
    bound = {ox.Variable("x"): ox.NamedNode("http://a")}
    with pytest.raises(QueryError, match="cannot bind values: the query has no WHERE group"):
        bind_by_values("DESCRIBE <http://a>", bound)
    with pytest.raises(QueryError, match="cannot bind values in the short form CONSTRUCT WHERE"):
        bind_by_values("CONSTRUCT  where { ?x ?p ?o }", bound)


def test_a_malformed_query_gets_the_same_message_from_either_store(
        seed_built: Settings, oxigraph_backend: str, tmp_path: Path) -> None:
    query = "SELECT ?x WHERE { ?x ckg:name }"
    with ReadStore.open_current(seed_built.store_dir) as local, \
            pytest.raises(QueryError) as embedded:
        local.query(query, prefixes=NS.prefixes())
    remote = RemoteStore.open(Backend.at(oxigraph_backend), tmp_path)
    with pytest.raises(QueryError) as from_remote:
        remote.query(query, prefixes=NS.prefixes())
    assert str(from_remote.value) == str(embedded.value)


def test_an_answer_the_backend_cuts_short_is_a_503(seed_built: Settings,
                                                   tmp_path: Path) -> None:
    """Oxigraph server stops this query at its own limit after it has begun its answer (the
    status line already sent): the body ends in a message, which is not the query's fault."""
    for url in oxigraph_server(tmp_path / "oxigraph", "--timeout-s", "1"):
        backend = Backend.at(f"{url}/query")
        with ReadStore.open_current(seed_built.store_dir) as store:
            push_build(backend, store.quads(), store.manifest)
        app = create_app({"KG_SETTINGS": replace(seed_built, store_dir=tmp_path / "local",
                                                 backend=backend.query_url), "TESTING": True})
        slow = ('SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) = CONCAT(STR(?f), "x")) }')
        response = app.test_client().get("/sparql", query_string={"query": slow})
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.get_json()["message"].startswith(
            f"the backend at {backend.query_url} failed while sending its answer: ")


def test_a_push_refuses_a_dataset_that_is_not_a_build_unless_told(
        fresh_backend: str, tmp_path: Path) -> None:
    root = fresh_backend.removesuffix("/query")
    theirs = requests.put(f"{root}/store?graph=http://example.org/theirs", timeout=30,
                          data=b"<http://example.org/a> <http://example.org/b> \"1\" .",
                          headers={"Content-Type": "application/n-triples"})
    assert theirs.status_code in (200, 201, 204)
    store = tmp_path / "store"
    refused = _kg("build", "--to", fresh_backend, corpus=MINI, store=store)
    assert refused.returncode == 5
    assert (f"the backend at {fresh_backend} holds data that is not a crisiskg build, and a "
            "push replaces all of it: push to an empty dataset, or add --replace-all"
            ) in refused.stderr
    assert _kg("build", "--to", fresh_backend, "--replace-all", corpus=MINI,
               store=store).returncode == 0
    remote = RemoteStore.open(Backend.at(fresh_backend), tmp_path / "local")
    assert "http://example.org/theirs" not in remote.named_graphs()


def test_staging_graphs_a_failed_push_left_go_with_the_next(fresh_backend: str,
                                                           tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _kg("build", "--to", fresh_backend, corpus=MINI, store=store).returncode == 0
    root = fresh_backend.removesuffix("/query")
    leftover = "urn:crisiskg:staging:20000101T000000000000Z-x:https://example.org/g"
    requests.put(f"{root}/store", params={"graph": leftover}, timeout=30,
                 data=b"<http://example.org/a> <http://example.org/b> \"1\" .",
                 headers={"Content-Type": "application/n-triples"}).raise_for_status()
    assert _kg("build", "--to", fresh_backend, corpus=MINI, store=store).returncode == 0
    assert b"urn:crisiskg:staging:" not in _everything(fresh_backend)


def test_kg_query_reads_the_backend(oxigraph_backend: str, seed_built: Settings,
                                    tmp_path: Path) -> None:
    env = {**os.environ, "KG_STORE_DIR": str(tmp_path), "KG_BACKEND": oxigraph_backend}
    result = subprocess.run([sys.executable, "-m", "kg", "query", "--format", "json",
                             "CONSTRUCT WHERE { res:qassem-soleimani a ?type }"],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    types = {t.object.value for t in ox.parse(result.stdout.encode(), ox.RdfFormat.TURTLE)}
    assert NS.term("Person") in types


def test_a_local_folder_it_cannot_write_does_not_stop_the_server(
        oxigraph_backend: str, seed_built: Settings, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    app = create_app({"KG_SETTINGS": replace(seed_built, store_dir=blocked,
                                             backend=oxigraph_backend), "TESTING": True})
    client = app.test_client()
    assert client.get("/health").status_code == 200
    assert client.get("/export/crisiskg.nt").status_code == 200  # sent from memory


def test_kg_load_to_adds_files_to_the_build_the_backend_serves(fresh_backend: str,
                                                               tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert _kg("build", "--to", fresh_backend, corpus=MINI, store=store).returncode == 0
    before = RemoteStore.open(Backend.at(fresh_backend), tmp_path / "local")
    triples = [ox.Triple(ox.NamedNode(f"http://example.org/e{i}"),
                         ox.NamedNode("http://example.org/label"), ox.Literal(f"e {i}"))
               for i in range(30)]
    plain = tmp_path / "events.nt"
    plain.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
    packed = tmp_path / "more.ttl.gz"
    packed.write_bytes(gzip.compress(ox.serialize(triples[:5], format=ox.RdfFormat.TURTLE)
                                     or b""))
    loaded = _kg("load", "--to", fresh_backend, str(plain), str(packed), corpus=MINI,
                 store=store)
    assert loaded.returncode == 0, loaded.stderr
    assert "loaded 35 quads into 2 graphs" in loaded.stdout
    after = RemoteStore.open(Backend.at(fresh_backend), tmp_path / "local")
    events = NS.base + "graph/loaded/events"
    assert set(after.manifest.loaded) == {events, NS.base + "graph/loaded/more"}
    assert after.manifest.dataset_version != before.manifest.dataset_version
    assert len(after.triples(events)) == 30
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://example.org/label> ?o }"
    assert next(iter(after.query(union)))["n"].value == "30"  # in the union, once each
    assert b"urn:crisiskg:staging:" not in _everything(fresh_backend)

    again = _kg("load", "--to", fresh_backend, str(plain), corpus=MINI, store=store)
    assert again.returncode == 2 and "the store has a graph" in again.stderr
    dataset = tmp_path / "d.nq"
    dataset.write_bytes(b"<http://example.org/a> <http://example.org/b> <http://example.org/c>"
                        b" <http://example.org/g> .\n")
    refused = _kg("load", "--to", fresh_backend, str(dataset), corpus=MINI, store=store)
    assert refused.returncode == 2
    assert "a dataset file (N-Quads, TriG, JSON-LD) cannot be sent" in refused.stderr
    assert RemoteStore.open(Backend.at(fresh_backend), tmp_path / "local").manifest \
        == after.manifest
