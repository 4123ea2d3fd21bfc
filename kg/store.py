"""The embedded pyoxigraph store: built beside the served one, switched to only on success.

Layout of the store folder::

    builds/<build-id>/oxigraph/      a complete pyoxigraph store, never written after its build
    builds/<build-id>/manifest.json  what the build holds (dataset version, counts)
    current -> builds/<build-id>     a symbolic link, replaced atomically by a successful build

A build writes into ``builds/<build-id>.partial`` and renames it when complete, so a failed or
interrupted build leaves ``current`` and everything it points to untouched. Readers open the store
read-only; only a build writes, and never to a store someone may be reading.

The store's default graph holds the union of all named graphs, written at build time. Queries use
it rather than pyoxigraph's `use_default_graph_as_union`, which in 0.5.13 returns a triple once
per graph that holds it (oxigraph#1919): a fact stated by two documents would count twice. A
graph is a set, so the bulk loader keeps each triple of the union once.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import QueryError, StoreError

__all__ = ["KEEP_BUILDS", "Manifest", "ReadStore", "current_build", "write_build"]

#: Builds kept on disk: the current one and the one before it (a server may still read it).
KEEP_BUILDS = 2
_STORE = "oxigraph"
_MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """What a build holds: its id, the dataset version (a hash of its inputs) and counts."""

    build_id: str
    dataset_version: str
    created: str
    counts: dict[str, Any]

    def to_json(self) -> str:
        """The manifest as JSON text."""
        return json.dumps(self.__dict__, indent=2, sort_keys=True)


def write_build(store_dir: Path, build_id: str, quads: Sequence[ox.Quad],
                manifest: Manifest) -> Path:
    """Load `quads` (and their union, as the default graph) into a new store beside the current
    one and switch to it; return its path."""
    builds = store_dir / "builds"
    final = builds / build_id
    partial = builds / f"{build_id}.partial"
    try:
        builds.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        store = ox.Store(str(partial / _STORE))
        union = (ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
        store.bulk_extend(itertools.chain(quads, union))
        store.flush()
        store.optimize()  # compacted stores answer several times faster (ENGINE-NOTES)
        del store  # closes the store before it is renamed
        (partial / _MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        os.replace(partial, final)
        _switch(store_dir, final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise StoreError(f"could not write the store in {store_dir}: {error}") from error
    _prune(builds, keep=final)
    return final


def _switch(store_dir: Path, build: Path) -> None:
    link = store_dir / "current"
    temporary = store_dir / "current.switching"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(build.relative_to(store_dir))
    os.replace(temporary, link)  # atomic: readers see the old build or the new one, never neither
    directory = os.open(store_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _prune(builds: Path, keep: Path) -> None:
    finished = sorted((p for p in builds.iterdir() if p.is_dir() and p.suffix != ".partial"),
                      key=lambda p: p.stat().st_mtime)
    for old in finished[:-KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def current_build(store_dir: Path) -> Path | None:
    """The build `current` points to, or None if nothing has been built."""
    link = store_dir / "current"
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if (target / _STORE).is_dir() else None


class ReadStore:
    """A built store opened read-only, and its manifest."""

    def __init__(self, build: Path) -> None:
        try:
            self._store = ox.Store.read_only(str(build / _STORE))
        except OSError as error:
            raise StoreError(f"cannot open the store at {build}: {error}") from error
        self.build = build
        self.manifest = Manifest(**json.loads((build / _MANIFEST).read_text(encoding="utf-8")))

    @classmethod
    def open_current(cls, store_dir: Path) -> ReadStore:
        """Open the current build, or explain how to make one."""
        build = current_build(store_dir)
        if build is None:
            raise StoreError(f"no store has been built in {store_dir}; run `kg build` first")
        return cls(build)

    def query(self, sparql: str, prefixes: dict[str, str] | None = None) -> Any:
        """Evaluate SPARQL; the default graph is the union of all graphs. QueryError if bad."""
        try:
            return self._store.query(sparql, prefixes=prefixes)
        except SyntaxError as error:
            raise QueryError(f"the query does not parse: {error}") from error
        except (OSError, ValueError) as error:
            raise QueryError(f"the query failed: {error}") from error

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of every named graph, or of one (the default graph is derived from them)."""
        if graph is not None:
            return iter(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        return (q for q in self._store if not isinstance(q.graph_name, ox.DefaultGraph))

    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self._store)
