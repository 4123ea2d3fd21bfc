"""The Turtle export in another engine: loaded into a fresh Oxigraph server (`oxigraph` from
PyPI), it answers every saved query exactly as crisiskg does."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import oxigraph_binary, oxigraph_server

from kg.export import export
from kg.namespaces import Namespaces
from kg.saved_queries import SavedQuery, load_catalog
from kg.settings import Settings
from kg.store import ReadStore
from kg.values_binding import bind_by_values

NS = Namespaces("https://w3id.org/crisiskg/")
RESULTS_JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def peer(seed_built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`oxigraph serve-read-only` on a store loaded from crisiskg's Turtle export."""
    oxigraph = oxigraph_binary()
    work = tmp_path_factory.mktemp("oxigraph")
    dump = work / "crisiskg.ttl"
    with ReadStore.open_current(seed_built.store_dir) as store:
        dump.write_bytes(export(store, NS, "turtle").data)
    location = work / "store"
    subprocess.run([oxigraph, "load", "--location", str(location), "--file", str(dump)],
                   check=True, capture_output=True, timeout=300)
    yield from oxigraph_server(location, command="serve-read-only")


def _local_queries() -> list[SavedQuery]:
    catalog = load_catalog(Path(__file__).resolve().parent.parent / "queries", NS)
    # SERVICE reaches Wikidata on the internet; the tests stay off it.
    return [q for q in catalog.queries.values() if "SERVICE" not in q.text]


def _with_defaults(saved: SavedQuery) -> str:
    """The query as another engine can run it: the project's prefixes declared, and the
    parameters' default values bound by VALUES (as crisiskg binds them for a remote backend)."""
    bound = saved.substitutions({}, NS.prefixes())
    prefixes = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in NS.prefixes().items())
    return prefixes + bind_by_values(saved.text, bound)


def _rows(answer: dict[str, Any]) -> list[tuple[tuple[str, ...], ...]]:
    """The solutions as a sorted list: rows that tie under ORDER BY may come in either order,
    which SPARQL leaves to the engine."""
    return sorted(tuple(sorted((var, *(str(term.get(k)) for k in
                                       ("type", "value", "datatype", "xml:lang")))
                               for var, term in binding.items()))
                  for binding in answer["results"]["bindings"])


@pytest.mark.parametrize("saved", _local_queries(), ids=lambda q: q.name)
def test_oxigraph_answers_each_saved_query_as_crisiskg_does(
        saved: SavedQuery, embedded_server: str, peer: str) -> None:
    ours = requests.get(f"{embedded_server}/queries/{saved.name}.json", timeout=120)
    assert ours.status_code == 200, ours.text
    theirs = requests.post(f"{peer}/query", data=_with_defaults(saved).encode(),
                           headers={**RESULTS_JSON, "Content-Type": "application/sparql-query"},
                           timeout=120)
    assert theirs.status_code == 200, theirs.text
    assert ours.json()["head"]["vars"] == theirs.json()["head"]["vars"]
    assert _rows(ours.json()) == _rows(theirs.json())
    assert ours.json()["results"]["bindings"], "an empty answer would prove nothing"
