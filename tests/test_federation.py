"""SERVICE reaches only the endpoints on the allow-list, and a refused one is never contacted."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from conftest import serve

from kg.errors import QueryError, SettingsError
from kg.federation import service_targets
from kg.settings import Settings

PREFIXES = {"ex": "http://example.org/"}


def test_the_targets_are_read_with_prefixes_base_and_nesting() -> None:
    query = """SELECT * WHERE {
      SERVICE SILENT <https://query.wikidata.org/sparql> { ?a ?b ?c }
      OPTIONAL { SERVICE ex:endpoint { ?d ?e ?f } }
      { SELECT ?g WHERE { SERVICE <relative> { ?g ?h ?i } } }
      SERVICE ?somewhere { ?j ?k ?l } }"""
    assert service_targets(query, PREFIXES, "http://127.0.0.1:8000/sparql") == [
        "https://query.wikidata.org/sparql", "http://example.org/endpoint",
        "http://127.0.0.1:8000/relative", None]


def test_a_query_rdflib_cannot_read_is_refused_rather_than_run() -> None:
    with pytest.raises(QueryError, match="its endpoints could not be checked"):
        service_targets("SELECT * WHERE { SERVICE <x:y> { ?s ?p ?o ", {}, None)


def test_the_allow_list_setting() -> None:
    assert Settings.from_env({}).service_allow == ("https://query.wikidata.org/sparql",
                                                   "https://dbpedia.org/sparql")
    assert Settings.from_env({"KG_SERVICE_ALLOW": ""}).service_allow == ()
    assert Settings.from_env({"KG_SERVICE_ALLOW": " http://a.example/sparql  "}
                             ).service_allow == ("http://a.example/sparql",)
    with pytest.raises(SettingsError, match="KG_SERVICE_ALLOW lists endpoints"):
        Settings.from_env({"KG_SERVICE_ALLOW": "wikidata"})


@pytest.fixture(scope="module")
def federating_server(live_server: str, seed_built: Settings) -> Iterator[str]:
    """A second server whose allow-list holds the first one: the "external knowledge base"."""
    yield from serve(seed_built.store_dir, KG_SERVICE_ALLOW=f"{live_server}/sparql")


def test_an_allowed_endpoint_is_queried(federating_server: str, live_server: str) -> None:
    query = f"""SELECT ?label WHERE {{
      SERVICE <{live_server}/sparql> {{ res:esmail-qaani skos:prefLabel ?label }} }}"""
    response = requests.get(f"{federating_server}/sparql", params={"query": query}, timeout=30,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    labels = [b["label"]["value"] for b in response.json()["results"]["bindings"]]
    assert labels == ["Esmail Qaani"]


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/sparql",        # loopback, another port
    "http://localhost:{port}/sparql",        # the same machine by name
    "http://[::1]:{port}/sparql",
    "http://10.0.0.1:{port}/sparql", "http://169.254.169.254/latest/meta-data",
])
def test_a_refused_endpoint_is_never_contacted(federating_server: str, target: str) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        endpoint = target.format(port=listener.getsockname()[1])
        query = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        response = requests.get(f"{federating_server}/sparql", params={"query": query},
                                timeout=30)
        assert response.status_code == 400
        assert response.json()["message"].startswith(f"SERVICE <{endpoint}> is not allowed")
        with pytest.raises(BlockingIOError):  # no connection was made to the listener
            listener.accept()


def test_a_variable_endpoint_is_refused(federating_server: str) -> None:
    query = "SELECT * WHERE { VALUES ?e { <http://127.0.0.1:1/> } SERVICE ?e { ?s ?p ?o } }"
    response = requests.get(f"{federating_server}/sparql", params={"query": query}, timeout=30)
    assert response.status_code == 400
    assert response.json()["message"].startswith("SERVICE with a variable is not allowed")
