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

import contextlib
import fcntl
import itertools
import json
import os
import shutil
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox

from kg.errors import KGError, QueryError, StoreBusy, StoreError

__all__ = ["KEEP_BUILDS", "GraphStore", "Manifest", "ReadStore", "change_build", "current_build",
           "extend_build",
           "read_manifest", "write_build"]

#: Builds kept on disk: the current one and the one before it (a server may still read it).
KEEP_BUILDS = 2
_STORE = "oxigraph"
_MANIFEST = "manifest.json"
_READERS = "readers.lock"


@dataclass(frozen=True)
class Manifest:
    """What a build holds: its id, the dataset version (a hash of its inputs) and counts."""

    build_id: str
    dataset_version: str
    created: str
    counts: dict[str, Any]
    #: Graphs `kg load` added, by IRI: the file, its SHA-256 and its number of quads. A build
    #: from the corpus carries them over.
    loaded: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        """The manifest as JSON text."""
        return json.dumps(self.__dict__, indent=2, sort_keys=True)


@dataclass
class _Draft:
    """A build being made: its folder, and the manifest to publish it with."""

    path: Path
    manifest: Manifest | None = None


@contextlib.contextmanager
def _new_build(store_dir: Path, build_id: str) -> Iterator[_Draft]:
    """Make a build beside the current one, under the build lock: the caller fills the draft's
    store and sets its manifest; on success the build is published and becomes current, on any
    failure (an interrupt too) nothing of it is left behind."""
    builds = store_dir / "builds"
    final = builds / build_id
    partial = builds / f"{build_id}.partial"
    try:
        builds.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(f"cannot create the store folder {builds}: {error}") from error
    with _exclusive(store_dir / ".build.lock"):
        for leftover in builds.glob("*.partial"):  # from a build or write that was killed
            shutil.rmtree(leftover, ignore_errors=True)
        switched = False
        try:
            partial.mkdir()
            draft = _Draft(partial)
            yield draft
            assert draft.manifest is not None, "a build needs its manifest"
            _write_synced(partial / _MANIFEST, draft.manifest.to_json())
            (partial / _READERS).touch()
            os.replace(partial, final)
            _switch(store_dir, final)
            switched = True
        except OSError as error:
            raise StoreError(f"could not write the store in {store_dir}: {error}") from error
        finally:
            if not switched:
                shutil.rmtree(partial, ignore_errors=True)
                shutil.rmtree(final, ignore_errors=True)
        _prune(builds, current=final)


def write_build(store_dir: Path, build_id: str, quads: Sequence[ox.Quad],
                manifest: Manifest, carried: Iterable[Callable[[], Iterator[ox.Quad]]] = ()
                ) -> Path:
    """Load `quads` (and their union, as the default graph) into a new store beside the current
    one and switch to it; return its path. Build ids must sort in build order. Each of
    `carried` gives more quads to add the same way (graphs `kg load` added, from the build
    before), read twice rather than held in memory."""
    def fill(store: ox.Store) -> None:
        union = (ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
        store.bulk_extend(itertools.chain(quads, union))
        for more in carried:
            store.bulk_extend(more())
            store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                              for q in more())
        store.optimize()  # compacted stores answer several times faster (ENGINE-NOTES)

    with _new_build(store_dir, build_id) as draft:
        _fill(draft.path / _STORE, fill)
        draft.manifest = manifest
    return store_dir / "builds" / build_id


def change_build(store_dir: Path, build_id: str, change: Callable[[ox.Store], None],
                 manifest: Callable[[Manifest], Manifest], default_graph: str) -> Path:
    """Apply `change` to a copy of the current build and switch to the copy; return its path.

    The copy is a pyoxigraph backup (hard links where it can), so readers of the current build
    are never disturbed; the store's default graph is then rebuilt as the union of the named
    graphs, and what the change wrote to the default graph itself is kept in the named graph
    `default_graph`. On any failure the current build stays and the copy is removed.
    """
    def fill(store: ox.Store, before: ox.Store) -> None:
        change(store)
        _rebuild_union(store, before, default_graph)

    return _copy_build(store_dir, build_id, fill, manifest)


def extend_build(store_dir: Path, build_id: str, extend: Callable[[ox.Store], None],
                 manifest: Callable[[Manifest], Manifest]) -> Path:
    """Add to a copy of the current build with `extend` (which must also add what it writes
    to named graphs to the default graph, their union) and switch to the copy; return its
    path. Unlike change_build, the union is not recomputed: bulk loads stay fast at any size.
    On any failure the current build stays and the copy is removed."""
    def fill(store: ox.Store, _: ox.Store) -> None:
        extend(store)
        store.optimize()  # as after a build: compacted stores answer faster

    return _copy_build(store_dir, build_id, fill, manifest)


def _copy_build(store_dir: Path, build_id: str, fill: Callable[[ox.Store, ox.Store], None],
                manifest: Callable[[Manifest], Manifest]) -> Path:
    """A new build: a copy of the current one (a pyoxigraph backup, hard links where it can),
    filled by `fill(copy, current)`, published with `manifest(current's manifest)`."""
    with _new_build(store_dir, build_id) as draft:
        # Read under the build lock: the copy must be of the build current now, not of one a
        # build or write that finished meanwhile has replaced.
        current = current_build(store_dir)
        if current is None:
            raise StoreError(f"no store has been built in {store_dir}; run `kg build` first")
        with ReadStore(current) as source:
            source._store.backup(str(draft.path / _STORE))
            _fill(draft.path / _STORE, lambda store: fill(store, source._store))
            draft.manifest = manifest(source.manifest)
    return store_dir / "builds" / build_id


def _fill(path: Path, fill: Callable[[ox.Store], None]) -> None:
    """Open the store at `path`, fill it, flush it, and close it, whether or not `fill` fails.

    pyoxigraph has no close(): a store closes when its last reference goes, and the frames of
    a traceback hold references. A store left open by a failure keeps writing (compactions in
    the background) while the failed build's folder is being removed, and leaves it behind.
    """
    store = ox.Store(str(path))
    try:
        fill(store)
        store.flush()
    except BaseException as error:
        if error.__traceback__ is not None:
            traceback.clear_frames(error.__traceback__.tb_next)  # the frames below this one
        raise
    finally:
        del store  # closes it, before the folder is renamed or removed


def _rebuild_union(store: ox.Store, before: ox.Store, default_graph: str) -> None:
    """Make the default graph the union of the named graphs again, after a write.

    A triple now in the default graph but in no named graph was either written to the default
    graph by the change (keep it, in `default_graph`) or left over from a named graph the change
    deleted it from (drop it): the build before the change tells which.
    """
    orphans = store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o "
                          "FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }")
    assert isinstance(orphans, ox.QuerySolutions)
    kept = ox.NamedNode(default_graph)
    written = [ox.Quad(row["s"], row["p"], row["o"], kept) for row in orphans
               if not any(not isinstance(q.graph_name, ox.DefaultGraph)
                          for q in before.quads_for_pattern(row["s"], row["p"], row["o"]))]
    store.extend(written)
    store.update("DROP SILENT DEFAULT ; INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold the build lock: one build writes to a store folder at a time."""
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreBusy(f"another build or write is changing {lock_path.parent}; try again "
                            "when it is done") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_synced(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


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


def _prune(builds: Path, current: Path) -> None:
    """Delete old builds, keeping the newest ones and any a reader still has open."""
    finished = sorted(p for p in builds.iterdir() if p.is_dir() and p.suffix != ".partial")
    for old in finished[:-KEEP_BUILDS]:
        if old == current:
            continue
        readers = old / _READERS
        try:
            with readers.open("a") as lock:
                # A reader holds a shared lock for as long as it has the build open.
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(old, ignore_errors=True)
        except BlockingIOError:
            continue
        except OSError:
            shutil.rmtree(old, ignore_errors=True)


def read_manifest(build: Path) -> Manifest:
    """A build's manifest, without opening its store."""
    try:
        return Manifest(**json.loads((build / _MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as error:
        raise StoreError(f"cannot read the manifest of {build}: {error}") from error


def current_build(store_dir: Path) -> Path | None:
    """The build `current` points to, or None if nothing has been built."""
    link = store_dir / "current"
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if (target / _STORE).is_dir() else None


class GraphStore(Protocol):
    """What reading a build needs, from the embedded store (ReadStore) or a remote SPARQL
    server (kg.remote.RemoteStore)."""

    manifest: Manifest
    #: The build's local folder (for what the server keeps about it: large answers, dumps).
    build: Path

    def query(self, sparql: str, prefixes: Mapping[str, str] | None = None,
              base_iri: str | None = None,
              substitutions: Mapping[ox.Variable, Any] | None = None,
              default_graph: Sequence[ox.NamedNode] | None = None,
              named_graphs: Sequence[ox.NamedNode] | None = None) -> Any:
        """Evaluate SPARQL over the union default graph (unless `default_graph` and
        `named_graphs` give the dataset), with `substitutions` pre-bound; pyoxigraph's result
        types. QueryError if the query is bad."""

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of every named graph, or of one."""

    def failure(self, error: Exception) -> KGError:
        """The error to report when a result fails while it is read (evaluation is lazy)."""

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one named graph."""

    def contains_named_graph(self, graph: str) -> bool:
        """Whether a named graph of this IRI exists."""

    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs."""

    def close(self) -> None:
        """Release what the store holds."""

    def __enter__(self) -> GraphStore:
        """The store itself, closed on leaving the block."""

    def __exit__(self, *exc_info: object) -> None:
        """Close the store."""

    def __len__(self) -> int:
        """The number of quads, the default graph's included."""


class ReadStore:
    """A built store opened read-only, and its manifest.

    While open, it holds a shared lock on the build, so no later build prunes it away.
    """

    def __init__(self, build: Path) -> None:
        try:
            self._lock = (build / _READERS).open("a")
            fcntl.flock(self._lock, fcntl.LOCK_SH)
            self._store = ox.Store.read_only(str(build / _STORE))
            self.manifest = read_manifest(build)
        except (OSError, ValueError, TypeError) as error:
            raise StoreError(f"cannot open the store at {build}: {error}") from error
        self.build = build

    def close(self) -> None:
        """Release the build (the store itself closes when garbage-collected)."""
        lock = getattr(self, "_lock", None)
        if lock is not None and not lock.closed:
            lock.close()

    def __enter__(self) -> ReadStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    @classmethod
    def open_current(cls, store_dir: Path) -> ReadStore:
        """Open the current build, or explain how to make one."""
        build = current_build(store_dir)
        if build is None:
            raise StoreError(f"no store has been built in {store_dir}; run `kg build` first")
        return cls(build)

    def query(self, sparql: str, prefixes: Mapping[str, str] | None = None,
              base_iri: str | None = None,
              substitutions: Mapping[ox.Variable, Any] | None = None,
              default_graph: Sequence[ox.NamedNode] | None = None,
              named_graphs: Sequence[ox.NamedNode] | None = None) -> Any:
        """Evaluate SPARQL; the default graph is the union of all graphs unless `default_graph`
        and `named_graphs` give the dataset. QueryError if the query is bad."""
        dataset: dict[str, Any] = {}
        if default_graph is not None:
            dataset["default_graph"] = list(default_graph)
        if named_graphs is not None:
            dataset["named_graphs"] = list(named_graphs)
        try:
            return self._store.query(sparql, prefixes=dict(prefixes or {}), base_iri=base_iri,
                                     substitutions=dict(substitutions or {}) or None, **dataset)
        except SyntaxError as error:
            raise QueryError(f"the query does not parse: {error}") from error
        except (OSError, ValueError) as error:
            raise QueryError(f"the query failed: {error}") from error

    def failure(self, error: Exception) -> KGError:
        """A result that fails while it is read: the query's own doing (a 400)."""
        return QueryError(f"the query failed: {error}")

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of every named graph, or of one (the default graph is derived from them)."""
        if graph is not None:
            return iter(self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        return (q for q in self._store if not isinstance(q.graph_name, ox.DefaultGraph))

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one named graph."""
        return [ox.Triple(q.subject, q.predicate, q.object) for q in self.quads(graph)]

    def contains_named_graph(self, graph: str) -> bool:
        """Whether the store holds a named graph of this IRI."""
        return bool(self._store.contains_named_graph(ox.NamedNode(graph)))

    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs."""
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self._store)
