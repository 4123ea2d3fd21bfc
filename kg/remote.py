"""A remote SPARQL 1.1 server as crisiskg's store: read over the SPARQL Protocol, written over
the Graph Store Protocol and SPARQL Update.

The remote dataset has the layout of the embedded store: every named graph of the build, their
union as the default graph, and the build's manifest in a graph of its own (`MANIFEST_GRAPH`,
left out of the union, of `named_graphs()` and of the dumps). So every query, page and export
means the same on either store, and the engine needs no union-graph setting.

Each query is parsed here by pyoxigraph first (on an empty in-memory store, which evaluates
nothing a client could notice), so a malformed query gets the same 400 and message as on the
embedded store. The remote's answer is parsed by pyoxigraph as it streams in, so the row cap
stops reading it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import requests

from kg.errors import KGError, QueryError, StoreError
from kg.sparql import ParsedTriples
from kg.sparql_scan import mentions_service
from kg.store import KEEP_BUILDS, Manifest
from kg.values_binding import bind_by_values

__all__ = ["MANIFEST_GRAPH", "Backend", "RemoteStore", "prologue", "push_build", "push_graphs",
           "switch_graphs", "write_remote"]

#: The graph holding the build's manifest (JSON), beside the data.
MANIFEST_GRAPH = "urn:crisiskg:manifest"
_STAGING = "urn:crisiskg:staging:"
_RDF_VALUE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value"
_RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
_SOLUTIONS = "application/sparql-results+json"
_GRAPH = "application/n-triples, text/turtle;q=0.5"
_ANY = f"{_SOLUTIONS}, {_GRAPH}"
#: Seconds a push waits for the backend to take a graph, or to switch builds (which copies
#: the whole dataset into the default graph): far longer than a query may take.
_PUSH_TIMEOUT = 3600.0
#: Graph names crisiskg keeps for itself, never part of the data.
_OWN = "urn:crisiskg:"


@dataclass(frozen=True)
class Backend:
    """Where a remote SPARQL server answers queries, updates and Graph Store requests."""

    query_url: str
    update_url: str
    store_url: str
    #: Seconds to wait for an answer (the server's own limit should be shorter).
    timeout: float = 60.0

    @classmethod
    def at(cls, query_url: str, update_url: str | None = None, store_url: str | None = None,
           timeout: float = 60.0) -> Backend:
        """A backend from its query URL; update and Graph Store URLs default to Oxigraph
        server's layout (a final /query replaced by /update and /store)."""
        root = query_url[: -len("/query")] if query_url.endswith("/query") else None

        def sibling(given: str | None, name: str, variable: str) -> str:
            if given:
                return given
            if root is None:
                raise StoreError(f"cannot tell the {name} URL of the backend {query_url}: set "
                                 f"{variable} (for Fuseki, http://host:3030/<dataset>/"
                                 f"{'update' if name == 'update' else 'data'})")
            return f"{root}/{name}"

        return cls(query_url, sibling(update_url, "update", "KG_BACKEND_UPDATE"),
                   sibling(store_url, "store", "KG_BACKEND_STORE"), timeout)

    def session(self) -> requests.Session:
        """An HTTP session to the backend (connections are kept alive between requests)."""
        session = requests.Session()
        session.headers["User-Agent"] = "crisiskg"
        return session


def _refused(backend_url: str, response: requests.Response) -> str:
    text = response.text.strip()
    return f"the backend at {backend_url} answered {response.status_code}: {text[:2000]}"


def _send(session: requests.Session, method: str, url: str, timeout: float,
          **arguments: Any) -> requests.Response:
    """One request to the backend; StoreError if it cannot be reached."""
    try:
        return session.request(method, url, timeout=(10, timeout), **arguments)
    except requests.Timeout as error:
        raise StoreError(f"the SPARQL backend at {url} did not answer within {timeout:g} s: "
                         f"{error}") from error
    except requests.RequestException as error:
        raise StoreError(f"cannot reach the SPARQL backend at {url}: {error}; is it running?"
                         ) from error


def prologue(prefixes: Mapping[str, str] | None, base_iri: str | None) -> str:
    """BASE and PREFIX declarations for a query or update sent as text; QueryError for an IRI
    that is not one (IRIs are written by pyoxigraph: the base comes from the request's Host,
    and must not break out of its brackets)."""
    try:
        lines = [f"BASE {ox.NamedNode(base_iri)}"] if base_iri else []
        lines += [f"PREFIX {name}: {ox.NamedNode(iri)}" for name, iri in (prefixes or {}).items()]
    except ValueError as error:
        raise QueryError(f"the base IRI or a prefix is not an IRI: {error}") from error
    return "".join(line + "\n" for line in lines)


def _parse_locally(sparql: str, prefixes: Mapping[str, str] | None,
                   base_iri: str | None) -> str | None:
    """The media types to ask for, by the query's kind; QueryError if it does not parse.

    A query with SERVICE is left to the backend: even an empty store would call the service
    to answer an ASK.
    """
    if mentions_service(sparql):
        return None
    try:
        result = ox.Store().query(sparql, prefixes=dict(prefixes or {}), base_iri=base_iri)
    except SyntaxError as error:
        raise QueryError(f"the query does not parse: {error}") from error
    except (OSError, ValueError):
        return None  # parsed; the empty store could not evaluate it, the backend will say
    if isinstance(result, ox.QueryTriples):
        return _GRAPH
    return _SOLUTIONS


class _Body:
    """A streamed answer, read by pyoxigraph: a connection that fails midway is an OSError
    (which pyoxigraph passes on), whatever urllib3 raised, and the response is closed once
    read to its end."""

    def __init__(self, response: requests.Response, url: str) -> None:
        self._response = response
        self._url = url

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self._response.raw.read(size)
        except Exception as error:
            self._response.close()
            raise OSError(f"the connection to {self._url} failed: {error}") from error
        if not data:
            self._response.close()
        return data

    def readable(self) -> bool:
        return True


class RemoteStore:
    """A build served by a remote SPARQL server: the reading side of crisiskg's store."""

    def __init__(self, backend: Backend, manifest: Manifest, build: Path,
                 session: requests.Session | None = None) -> None:
        self.backend = backend
        self.manifest = manifest
        #: A local folder for what crisiskg keeps about this build (large answers, dumps).
        self.build = build
        self._session = session or backend.session()

    @classmethod
    def open(cls, backend: Backend, local_dir: Path, session: requests.Session | None = None,
             manifest: Manifest | None = None) -> RemoteStore:
        """The build the backend holds now (whose manifest may be known already); StoreError
        if it holds none."""
        session = session or backend.session()
        manifest = manifest or read_remote_manifest(backend, session)
        # One folder per backend, so two backends' builds never prune each other's.
        backend_id = hashlib.sha256(backend.query_url.encode()).hexdigest()[:12]
        build = local_dir / "remote" / backend_id / manifest.build_id
        _prepare(build)
        return cls(backend, manifest, build, session)

    def close(self) -> None:
        """Nothing to release: the session is shared by the worker."""

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def query(self, sparql: str, prefixes: Mapping[str, str] | None = None,
              base_iri: str | None = None, substitutions: Mapping[ox.Variable, Any] | None = None,
              default_graph: Sequence[ox.NamedNode] | None = None,
              named_graphs: Sequence[ox.NamedNode] | None = None) -> Any:
        """Evaluate SPARQL on the backend: pyoxigraph's result types, read as they arrive."""
        if substitutions:
            sparql = bind_by_values(sparql, substitutions)
        accept = _parse_locally(sparql, prefixes, base_iri) or _ANY
        form: dict[str, Any] = {"query": prologue(prefixes, base_iri) + sparql}
        if default_graph:
            form["default-graph-uri"] = [g.value for g in default_graph]
        if named_graphs:
            form["named-graph-uri"] = [g.value for g in named_graphs]
        response = _send(self._session, "POST", self.backend.query_url, self.backend.timeout,
                         data=form, headers={"Accept": accept}, stream=True)
        if response.status_code == 400:
            raise QueryError(_refused(self.backend.query_url, response))
        if response.status_code != 200:
            raise StoreError(_refused(self.backend.query_url, response))
        response.raw.decode_content = True
        body = _Body(response, self.backend.query_url)
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        results_format = ox.QueryResultsFormat.from_media_type(media_type)
        if results_format is not None:
            return ox.parse_query_results(body, results_format)  # type: ignore[arg-type]
        rdf_format = ox.RdfFormat.from_media_type(media_type)
        if rdf_format is not None:
            return ParsedTriples(ox.Triple(q.subject, q.predicate, q.object)
                                 for q in ox.parse(body, rdf_format))  # type: ignore[arg-type]
        raise StoreError(f"the backend at {self.backend.query_url} answered in {media_type!r}, "
                         "which is neither SPARQL results nor RDF")

    def failure(self, error: Exception) -> KGError:
        """An answer that fails while it streams in: the backend's failure (a 503), not the
        query's; a backend that stops a query at its own time limit cuts its answer short."""
        return StoreError(f"the backend at {self.backend.query_url} failed while sending its "
                          f"answer: {error}")

    def _select(self, sparql: str) -> ox.QuerySolutions:
        result = self.query(sparql)
        assert isinstance(result, ox.QuerySolutions)
        return result

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """The quads of every named graph, or of one (the default graph is their union)."""
        if graph is not None:
            name = ox.NamedNode(graph)
            rows = self._select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}")
            return (ox.Quad(r["s"], r["p"], r["o"], name) for r in rows)
        rows = self._select("SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                            f'FILTER(!STRSTARTS(STR(?g), "{_OWN}")) }}')
        return (ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)

    def triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one named graph."""
        return [ox.Triple(q.subject, q.predicate, q.object) for q in self.quads(graph)]

    def contains_named_graph(self, graph: str) -> bool:
        """Whether the backend holds a named graph of this IRI (with a triple in it)."""
        if graph.startswith(_OWN):
            return False
        return bool(self.query(f"ASK {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"))

    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs of the data."""
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(r["g"].value for r in rows if not r["g"].value.startswith(_OWN))

    def __len__(self) -> int:
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g "
                            f'{{ ?s ?p ?o }} FILTER(!STRSTARTS(STR(?g), "{_OWN}")) }} }}')
        return int(next(iter(rows))["n"].value)


def _prepare(build: Path) -> None:
    """Make the local folder of a remote build, and drop those of older builds of the same
    backend. Without it, answers are cached in memory only and dumps sent from memory."""
    if build.is_dir():
        return
    try:
        build.mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    older = sorted((p for p in build.parent.iterdir() if p.is_dir()),
                   key=lambda p: p.stat().st_mtime)
    for old in older[:-KEEP_BUILDS]:
        shutil.rmtree(old, ignore_errors=True)


def read_remote_manifest(backend: Backend, session: requests.Session | None = None) -> Manifest:
    """The manifest of the build the backend holds; StoreError if it holds none."""
    session = session or backend.session()
    query = (f"SELECT ?m WHERE {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> "
             f"<{_RDF_VALUE}> ?m }} }}")
    response = _send(session, "POST", backend.query_url, backend.timeout,
                     data={"query": query}, headers={"Accept": _SOLUTIONS})
    if response.status_code != 200:
        raise StoreError(_refused(backend.query_url, response))
    solutions = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
    assert isinstance(solutions, ox.QuerySolutions)
    rows = list(solutions)
    if not rows:
        raise StoreError(f"the backend at {backend.query_url} holds no crisiskg build; push "
                         f"one with `kg build --to {backend.query_url}`")
    try:
        return Manifest(**json.loads(rows[0]["m"].value))
    except (ValueError, TypeError) as error:
        raise StoreError(f"the manifest in {MANIFEST_GRAPH} at {backend.query_url} is not "
                         f"crisiskg's: {error}") from error


def push_build(backend: Backend, quads: Iterable[ox.Quad], manifest: Manifest,
               replace_all: bool = False) -> int:
    """Replace the backend's data with `quads` (named graphs), their union and `manifest`;
    return the number of quads sent.

    Each graph is first uploaded (Graph Store Protocol PUT, streamed as N-Triples) under a
    staging name; then one SPARQL Update moves them into place, drops the graphs the build no
    longer has, rebuilds the union and writes the manifest. Engines that run an update request
    as one transaction (Oxigraph does) switch their readers from the old build to the new in
    one step; on any failure before that step, the staging graphs are dropped and the served
    data is as it was (staging graphs a failed push left behind go with the next push).

    A backend holding data but no crisiskg build is refused unless `replace_all`: a push
    replaces everything the dataset holds.
    """
    session = backend.session()
    existing = _remote_graphs(session, backend)
    if not replace_all and MANIFEST_GRAPH not in existing and \
            (existing or _has_default_triples(session, backend)):
        raise StoreError(f"the backend at {backend.query_url} holds data that is not a "
                         "crisiskg build, and a push replaces all of it: push to an empty "
                         "dataset, or add --replace-all")
    by_graph: dict[str, list[ox.Triple]] = {}
    for quad in quads:
        if not isinstance(quad.graph_name, ox.NamedNode):
            raise StoreError(f"a build's quads are in named graphs; {quad} is not")
        by_graph.setdefault(quad.graph_name.value, []).append(
            ox.Triple(quad.subject, quad.predicate, quad.object))
    staging = {graph: _staging(manifest.build_id, graph) for graph in by_graph}
    with _staged(session, backend, staging.values()):
        for graph, triples in by_graph.items():
            _put_graph(session, backend, staging[graph], _ntriples(triples),
                       "application/n-triples")
        _update(session, backend, _switch_update(staging, existing, manifest))
    return sum(len(triples) for triples in by_graph.values())


def push_graphs(backend: Backend, bodies: Mapping[str, tuple[Iterable[bytes], str]],
                build_id: str) -> dict[str, int]:
    """Upload each graph's body (its RDF, in the media type given) under a staging name for
    the build `build_id`; return the quads each holds. switch_graphs puts them in place; on a
    failure here, the staging graphs are dropped."""
    session = backend.session()
    staging = {graph: _staging(build_id, graph) for graph in bodies}
    counts = {}
    with _staged(session, backend, staging.values()):
        for graph, (body, media_type) in bodies.items():
            _put_graph(session, backend, staging[graph], body, media_type)
            counts[graph] = _count(session, backend, staging[graph])
    return counts


def switch_graphs(backend: Backend, graphs: list[str], before: Manifest,
                  manifest: Manifest) -> None:
    """In one update: move the graphs push_graphs staged on top of the build `before` into
    place, add them to the union, and write `manifest` (the build they make). StoreError if
    the backend serves another build by now (pushed meanwhile)."""
    session = backend.session()
    staging = {graph: _staging(before.build_id, graph) for graph in graphs}
    with _staged(session, backend, staging.values()):
        if read_remote_manifest(backend, session) != before:
            raise StoreError(f"the backend at {backend.query_url} was given another build "
                             "while the files were sent; nothing was loaded: load them again")
        operations = []
        for graph, name in staging.items():
            target, source = ox.NamedNode(graph), ox.NamedNode(name)
            operations += [f"MOVE SILENT {source} TO {target}",
                           f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH {target} {{ ?s ?p ?o }} }}"]
        _update(session, backend, " ;\n".join([*operations, *_manifest_update(manifest)]))


def write_remote(backend: Backend, operations: str, manifest: Manifest,
                 declarations: str = "") -> None:
    """Apply a write (SPARQL Update `operations`, which write to named graphs only) to the
    backend's build, in one update request that also makes the default graph the union of the
    named graphs again and writes the new `manifest`."""
    steps = [declarations + operations,
             "DROP SILENT DEFAULT",
             "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } "
             f'FILTER(!STRSTARTS(STR(?g), "{_OWN}")) }}',
             *_manifest_update(manifest)]
    session = backend.session()
    text = "\n;\n".join(step for step in steps if step)
    response = _send(session, "POST", backend.update_url, _PUSH_TIMEOUT, data={"update": text})
    if response.status_code == 400:
        raise QueryError(_refused(backend.update_url, response))
    if response.status_code not in (200, 204):
        raise StoreError(_refused(backend.update_url, response))


def _staging(build_id: str, graph: str) -> str:
    return f"{_STAGING}{build_id}:{graph}"


@contextlib.contextmanager
def _staged(session: requests.Session, backend: Backend, names: Iterable[str]
            ) -> Iterator[None]:
    """Drop the staging graphs if the block fails."""
    names = list(names)

    def drop() -> None:
        drops = " ;\n".join(f"DROP SILENT GRAPH {ox.NamedNode(name)}" for name in names)
        with contextlib.suppress(StoreError):  # if not, they stay; the data is untouched
            _update(session, backend, drops)

    try:
        yield
    except BaseException:
        drop()
        raise


def _ntriples(triples: list[ox.Triple]) -> Iterator[bytes]:
    # One body per graph, so its blank nodes stay one node each; streamed in pieces.
    for start in range(0, len(triples), 50_000):
        yield ox.serialize(triples[start:start + 50_000], format=ox.RdfFormat.N_TRIPLES) or b""


def _put_graph(session: requests.Session, backend: Backend, graph: str, body: Iterable[bytes],
               media_type: str) -> None:
    url = f"{backend.store_url}?graph={quote(graph, safe='')}"
    response = _send(session, "PUT", url, _PUSH_TIMEOUT, data=body,
                     headers={"Content-Type": media_type})
    if response.status_code not in (200, 201, 204):
        raise StoreError(_refused(backend.store_url, response))


def _count(session: requests.Session, backend: Backend, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"
    response = _send(session, "POST", backend.query_url, _PUSH_TIMEOUT,
                     data={"query": query}, headers={"Accept": _SOLUTIONS})
    if response.status_code != 200:
        raise StoreError(_refused(backend.query_url, response))
    rows = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
    assert isinstance(rows, ox.QuerySolutions)
    return int(next(iter(rows))["n"].value)


def _has_default_triples(session: requests.Session, backend: Backend) -> bool:
    response = _send(session, "POST", backend.query_url, backend.timeout,
                     data={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": _SOLUTIONS})
    if response.status_code != 200:
        raise StoreError(_refused(backend.query_url, response))
    return bool(ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON))


def _remote_graphs(session: requests.Session, backend: Backend) -> set[str]:
    response = _send(session, "POST", backend.query_url, backend.timeout,
                     data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                     headers={"Accept": _SOLUTIONS})
    if response.status_code != 200:
        raise StoreError(_refused(backend.query_url, response))
    rows = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
    assert isinstance(rows, ox.QuerySolutions)
    return {row["g"].value for row in rows}


def _switch_update(staging: Mapping[str, str], existing: set[str], manifest: Manifest) -> str:
    """One SPARQL Update that makes the staged build the served one."""
    gone = sorted(g for g in existing if g not in staging)  # leftovers of failed pushes too
    operations = [f"DROP SILENT GRAPH <{graph}>" for graph in gone]
    operations += [f"MOVE SILENT {ox.NamedNode(name)} TO {ox.NamedNode(graph)}"
                   for graph, name in staging.items()]
    operations += [
        "DROP SILENT DEFAULT",
        "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(!STRSTARTS(STR(?g), "{_OWN}")) }}',
        *_manifest_update(manifest),
    ]
    return " ;\n".join(operations)


def _manifest_update(manifest: Manifest) -> list[str]:
    """Update operations that make `manifest` the backend's."""
    literal = ox.Literal(manifest.to_json(), datatype=ox.NamedNode(_RDF_JSON))
    return [f"DROP SILENT GRAPH <{MANIFEST_GRAPH}>",
            f"INSERT DATA {{ GRAPH <{MANIFEST_GRAPH}> {{ <{MANIFEST_GRAPH}> <{_RDF_VALUE}> "
            f"{literal} }} }}"]


def _update(session: requests.Session, backend: Backend, update: str) -> None:
    response = _send(session, "POST", backend.update_url, _PUSH_TIMEOUT,
                     data={"update": update})
    if response.status_code not in (200, 204):
        raise StoreError(_refused(backend.update_url, response))
