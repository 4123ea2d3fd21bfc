"""Query helpers for tests: SPARQL over a built store, answers as plain strings."""

from __future__ import annotations

from typing import Any

from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.store import ReadStore

NS = Namespaces()


def select(settings: Settings, query: str) -> list[dict[str, str]]:
    """SELECT solutions as dicts of lexical values (unbound variables left out)."""
    with ReadStore.open_current(settings.store_dir) as store:
        result: Any = store.query(query, prefixes=NS.prefixes())
        names = [v.value for v in result.variables]
        return [{n: s[n].value for n in names if s[n] is not None} for s in result]


def ask(settings: Settings, query: str) -> bool:
    """An ASK query's answer."""
    with ReadStore.open_current(settings.store_dir) as store:
        return bool(store.query(query, prefixes=NS.prefixes()))


def build_with_a_triple_term(settings: Settings) -> None:
    """Build the corpus, then write what a researcher's SPARQL Update may add: an RDF 1.2
    reifier of one of its statements, in the graph `notes`."""
    from kg.build import build
    from kg.sparql import Dataset
    from kg.writes import run_update

    build(settings)
    run_update(settings.store_dir, NS, """
        PREFIX ex: <http://example.org/>
        INSERT DATA { GRAPH <https://w3id.org/crisiskg/graph/notes> {
          ex:note rdf:reifies <<( res:ann-example ckg:commands res:rocket-force )>> } }""",
               Dataset(), None)
