"""Bulk-loading a researcher's own RDF (GDELT or ACLED extracts, other projects' dumps) into the
store as named graphs, beside the corpus's graphs.

pyoxigraph's bulk loader parses and writes each file (the same loader as `oxigraph load`). A
load makes a new build from a copy of the current one (hard links) and switches to it only when
every file has loaded, so a file that fails leaves the store as it was. Each file's triples go
to one named graph, and to the default graph, which holds the union of the named graphs; a
quad file (N-Quads, TriG) keeps its graph names. A later `kg build` carries the loaded graphs
over (see kg.build).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import pyoxigraph as ox

from kg.errors import LoadError
from kg.namespaces import Namespaces
from kg.remote import Backend, RemoteStore, push_graphs, switch_graphs
from kg.settings import Settings
from kg.store import GraphStore, Manifest, ReadStore, current_build, extend_build

__all__ = ["LOAD_FORMATS", "LoadReport", "Source", "load_files", "load_files_to", "plan_sources",
           "version_with_loaded"]

#: File name endings `kg load` reads (then .gz for gzip), and their formats.
LOAD_FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG, ".rdf": ox.RdfFormat.RDF_XML, ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML, ".jsonld": ox.RdfFormat.JSON_LD,
}
_QUAD_FORMATS = (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG, ox.RdfFormat.JSON_LD)

#: Called with what is being read (the file, and which pass), the bytes read so far and its size.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Source:
    """One file to load: its format, and the graph its triples go to."""

    path: Path
    format: ox.RdfFormat
    graph: str

    @property
    def gzipped(self) -> bool:
        """Whether the file is gzip-compressed (by its name)."""
        return self.path.suffix == ".gz"


@dataclass
class LoadReport:
    """What a load added."""

    graphs: dict[str, int]
    build: Path
    seconds: float

    def summary(self) -> str:
        """A short human summary."""
        total = sum(self.graphs.values())
        lines = [f"loaded {total} quads into {len(self.graphs)} graphs in {self.seconds:.1f} s "
                 f"({total / max(self.seconds, 1e-9):,.0f} quads/s)"]
        lines += [f"  {graph}  {count}" for graph, count in sorted(self.graphs.items())]
        lines.append(f"store: {self.build}")
        return "\n".join(lines)


def loaded_graph(ns: Namespaces, path: Path) -> str:
    """The graph a file's triples go to by default: graph/loaded/<file name without suffixes>."""
    name = path.name.removesuffix(".gz")
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix else name
    return f"{ns.base}graph/loaded/{quote(stem, safe='-._~')}"


def plan_sources(paths: list[Path], ns: Namespaces, graph: str | None = None,
                 fmt: ox.RdfFormat | None = None) -> list[Source]:
    """The files to load, each with its format and graph; LoadError, saying what to do, for a
    file that is missing or of a format the name does not tell."""
    if graph is not None and len(paths) > 1:
        raise LoadError("--graph names the graph of one file; load the files one at a time, "
                        "or leave --graph out (each file then gets graph/loaded/<name>)")
    sources = []
    for path in paths:
        if not path.is_file():
            raise LoadError(f"{path}: no such file")
        suffix = Path(path.name.removesuffix(".gz")).suffix.lower()
        chosen = fmt or LOAD_FORMATS.get(suffix)
        if chosen is None:
            raise LoadError(f"{path}: cannot tell the format from the name; give --format, or "
                            "end the name in " + ", ".join(LOAD_FORMATS) + " (then .gz)")
        target = graph or loaded_graph(ns, path)
        try:
            ox.NamedNode(target)
        except ValueError as error:
            raise LoadError(f"{target!r} is not a graph IRI: {error}") from None
        sources.append(Source(path, chosen, target))
    names = [s.graph for s in sources]
    twice = sorted({g for g in names if names.count(g) > 1})
    if twice:
        raise LoadError(f"two files would load into {twice[0]}: rename one, or load it with "
                        "--graph")
    return sources


class _Counting:
    """A binary file that reports how much of it has been read (for the progress bar)."""

    def __init__(self, raw: IO[bytes], data: Any, label: str, progress: Progress) -> None:
        self._raw = raw
        self._data = data
        self._label = label
        self._size = os.fstat(raw.fileno()).st_size
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._data.read(size)
        self._progress(self._label, self._raw.tell(), self._size)
        return data

    def readable(self) -> bool:
        return True


@contextlib.contextmanager
def _reading(source: Source, label: str, progress: Progress) -> Iterator[Any]:
    """The file's content (uncompressed), reporting progress in the file as it is read."""
    with source.path.open("rb") as raw, \
            (gzip.open(raw) if source.gzipped else contextlib.nullcontext(raw)) as data:
        yield _Counting(raw, data, f"{source.path.name} ({label})", progress)


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _sizes(store: ox.Store, graph: ox.NamedNode | None) -> dict[str, int]:
    """Quads per named graph: of one graph, or of every one (counted by the engine)."""
    query = _PER_GRAPH if graph is None else _PER_GRAPH.replace("WHERE {",
                                                                f"WHERE {{ VALUES ?g {{ {graph} }}")
    rows = store.query(query)
    assert isinstance(rows, ox.QuerySolutions)
    return {row["g"].value: int(row["n"].value) for row in rows}


def _load_one(store: ox.Store, source: Source, progress: Progress) -> dict[str, int]:
    """Load one file into its graph and into the union; the quads added per graph."""
    graph = ox.NamedNode(source.graph)
    quads = source.format in _QUAD_FORMATS
    before = _sizes(store, None if quads else graph)
    def into_graph() -> None:
        with _reading(source, "graph", progress) as data:
            store.bulk_load(data, source.format, to_graph=graph)

    def into_union() -> None:
        if not quads and not source.gzipped:  # by path: no Python in the loader's way
            store.bulk_load(path=source.path, format=source.format, to_graph=ox.DefaultGraph())
            return
        with _reading(source, "union", lambda *_: None) as data:
            if quads:
                # A dataset file's own graph names stay; the union gets every quad once.
                store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                                  for q in ox.parse(data, source.format)
                                  if isinstance(q, ox.Quad))
            else:
                store.bulk_load(data, source.format, to_graph=ox.DefaultGraph())

    try:
        # Both at once: pyoxigraph releases the GIL while it loads, and the two write
        # different indexes, so the union costs little more time than the graph alone.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for done in [pool.submit(into_graph), pool.submit(into_union)]:
                done.result()
    except SyntaxError as error:
        raise LoadError(f"{source.path}: not valid {source.format.name}: {error}; fix the "
                        "file (or give the right --format); nothing was loaded") from None
    except (OSError, EOFError) as error:
        raise LoadError(f"{source.path}: cannot read it: {error}; nothing was loaded") from None
    after = _sizes(store, None if quads else graph)
    changed = sorted(g for g in before if after.get(g) != before[g])
    if changed:
        raise LoadError(f"{source.path} has quads in the graph {changed[0]}, which the store "
                        "holds already; a load adds graphs, it does not change them: rename "
                        "the file's graphs; nothing was loaded")
    return {g: n - before.get(g, 0) for g, n in after.items() if n != before.get(g, 0)}


def version_with_loaded(corpus_version: str, loaded: dict[str, dict[str, Any]]) -> str:
    """The dataset version of a build: the corpus's, and each loaded file's hash."""
    if not loaded:
        return corpus_version
    version = hashlib.sha256(corpus_version.encode())
    for graph, facts in sorted(loaded.items()):
        version.update(f"{graph} {facts['sha256']}".encode())
    return version.hexdigest()[:16]


def _after_load(before: Manifest, by_source: dict[Source, dict[str, int]],
                started: datetime) -> Manifest:
    """The manifest of the build a load makes: the files it loaded, the new dataset version."""
    loaded = dict(before.loaded)
    for source, graphs in by_source.items():
        digest = _hash(source.path)
        for graph, count in graphs.items():  # a quad file's own graphs too
            loaded[graph] = {"file": source.path.name, "sha256": digest, "quads": count}
    new = sum(n for graphs in by_source.values() for n in graphs.values())
    counts = {**before.counts, "quads": before.counts.get("quads", 0) + new}
    corpus_version = before.counts.get("corpus_version", before.dataset_version)
    counts["corpus_version"] = corpus_version
    return replace(before, build_id=started.strftime("%Y%m%dT%H%M%S%fZ") + "-load",
                   dataset_version=version_with_loaded(corpus_version, loaded),
                   created=started.isoformat(timespec="seconds"), counts=counts,
                   loaded=loaded)


def _refuse_taken(store: GraphStore, sources: list[Source]) -> None:
    taken = [s.graph for s in sources if store.contains_named_graph(s.graph)]
    if taken:
        raise LoadError(f"the store has a graph {taken[0]} already; a load adds graphs, it "
                        "does not replace them: load the file with another --graph")


def load_files(settings: Settings, sources: list[Source],
               progress: Progress = lambda *_: None) -> LoadReport:
    """Load `sources` into a new build of the embedded store and switch to it; LoadError for a
    graph the store has already (nothing is replaced by a load), or a file that fails."""
    started = datetime.now(UTC)
    current = current_build(settings.store_dir)
    if current is not None:
        with ReadStore(current) as store:
            _refuse_taken(store, sources)
    by_source: dict[Source, dict[str, int]] = {}

    def extend(store: ox.Store) -> None:
        for source in sources:
            by_source[source] = _load_one(store, source, progress)

    made = started.strftime("%Y%m%dT%H%M%S%fZ") + "-load"
    build = extend_build(settings.store_dir, made,
                         extend, lambda before: _after_load(before, by_source, started))
    added = {graph: n for graphs in by_source.values() for graph, n in graphs.items()}
    return LoadReport(added, build, (datetime.now(UTC) - started).total_seconds())


def load_files_to(backend: Backend, settings: Settings, sources: list[Source],
                  progress: Progress = lambda *_: None) -> LoadReport:
    """Load `sources` into the build a remote backend serves: each file is uploaded as it is
    (streamed, decompressed) to a staging graph, then one update moves it into place, adds it
    to the union and writes the new manifest. Triple files only: the Graph Store Protocol
    addresses one graph at a time."""
    started = datetime.now(UTC)
    quads = [s.path for s in sources if s.format in _QUAD_FORMATS]
    if quads:
        raise LoadError(f"{quads[0]}: a dataset file (N-Quads, TriG, JSON-LD) cannot be sent "
                        "to a backend graph by graph; load it into the embedded store with "
                        "`kg load`, then push the build with `kg build --to`")
    remote = RemoteStore.open(backend, settings.store_dir)
    _refuse_taken(remote, sources)

    def upload(source: Source) -> Iterator[bytes]:
        with _reading(source, "upload", progress) as data:
            yield from iter(lambda: data.read(1 << 20), b"")

    by_source = push_graphs(backend, {s.graph: (upload(s), s.format.media_type)
                                      for s in sources}, remote.manifest.build_id)
    counted = {source: {source.graph: by_source[source.graph]} for source in sources}
    switch_graphs(backend, list(by_source), remote.manifest,
                  _after_load(remote.manifest, counted, started))
    added = {graph: n for graphs in counted.values() for graph, n in graphs.items()}
    return LoadReport(added, settings.store_dir, (datetime.now(UTC) - started).total_seconds())
