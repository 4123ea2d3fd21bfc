"""Writes: SPARQL Update and the Graph Store HTTP Protocol, applied as new builds.

A write never touches a store someone reads: it is applied to a copy of the current build,
which then becomes current (kg.store.change_build), so every reader sees the write on its next
query, and the dataset version (and every ETag) changes. `kg build` rebuilds from the corpus
and so replaces what writes added.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate

from kg.errors import QueryError, UnsupportedMediaType
from kg.namespaces import Namespaces
from kg.remote import Backend, prologue, read_remote_manifest, write_remote
from kg.sparql import Dataset
from kg.sparql_scan import NOT_SYNTAX, mentions_service
from kg.store import Manifest, change_build

__all__ = ["add_using", "delete_graph", "put_graph", "run_update"]

_TOKENS = re.compile(
    NOT_SYNTAX
    + r"""|(?P<brace>[{}])"""
    r"""|(?P<semicolon>;)"""
    r"""|(?P<keyword>\b(?:WHERE|USING|WITH|DELETE|INSERT)\b)""",
    re.IGNORECASE,
)


_LOAD = re.compile(r"\bLOAD\b", re.IGNORECASE)


def add_using(update: str, dataset: Dataset) -> str:
    """The update with the protocol's using-graph-uri / using-named-graph-uri as USING clauses.

    They go before the WHERE of each DELETE/INSERT operation (not into DELETE WHERE, which
    takes none). An update that names its dataset itself (USING, WITH) cannot also have one
    from the protocol: that is an error, as the protocol says.
    """
    if not (dataset.default_graphs or dataset.named_graphs):
        return update
    clauses = " ".join([*(f"USING <{g}>" for g in dataset.default_graphs),
                        *(f"USING NAMED <{g}>" for g in dataset.named_graphs)])
    depth, previous, inserts = 0, "", []
    for match in _TOKENS.finditer(update):
        if match.group("brace"):
            depth += 1 if match.group() == "{" else -1
            previous = ""  # DELETE { ... } WHERE is no DELETE WHERE
        elif match.group("semicolon"):
            previous = ""
        elif (keyword := match.group("keyword")) and depth == 0:
            keyword = keyword.upper()
            if keyword in ("USING", "WITH"):
                raise QueryError("the update names its dataset (USING or WITH) and the request "
                                 "gives using-graph-uri or using-named-graph-uri: use one")
            if keyword == "WHERE":
                if previous == "DELETE":
                    raise QueryError("DELETE WHERE takes no dataset: write it as DELETE { ... } "
                                     "WHERE { ... }, or leave out using-graph-uri")
                inserts.append(match.start())
            previous = keyword
    for position in reversed(inserts):
        update = f"{update[:position]}{clauses} {update[position:]}"
    return update


def _build_id(kind: str) -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{kind}"


def _next_manifest(base: Manifest, build_id: str, change: str) -> Manifest:
    version = hashlib.sha256((base.dataset_version + "\x1f" + change).encode()).hexdigest()[:16]
    return replace(base, build_id=build_id, dataset_version=version,
                   created=datetime.now(UTC).isoformat(timespec="seconds"))


def _write_remote(backend: Backend, kind: str, change_text: str, operations: str,
                  declarations: str = "") -> Manifest:
    manifest = _next_manifest(read_remote_manifest(backend), _build_id(kind), change_text)
    write_remote(backend, operations, manifest, declarations)
    return manifest


def _write(store_dir: Path, ns: Namespaces, kind: str, change_text: str,
           change: Callable[[ox.Store], None]) -> Manifest:
    build_id = _build_id(kind)
    result: list[Manifest] = []

    def manifest(base: Manifest) -> Manifest:
        result.append(_next_manifest(base, build_id, change_text))
        return result[0]

    change_build(store_dir, build_id, change, manifest, default_graph=ns.graph("default"))
    return result[0]


def _adds_to_default_graph(update: str, prefixes: dict[str, str],
                           base_iri: str | None) -> str | None:
    """The first operation (its name) that adds triples to the default graph, read by
    rdflib's parser; None if none does, or if rdflib cannot read the update (the backend
    then decides)."""
    try:
        translated = translateUpdate(parseUpdate(update), base=base_iri, initNs=prefixes)
    except Exception:  # rdflib's parser raises many kinds; a backend may read what it cannot
        return None
    for operation in translated.algebra:
        name = operation.name
        if name == "InsertData" and operation.triples:
            return "INSERT DATA"
        if name == "Modify" and operation.insert is not None and operation.insert.triples \
                and operation.withClause is None:
            return "INSERT"
        if name == "Load" and operation.graphiri is None:
            return "LOAD"
        if name in ("Add", "Copy", "Move") and operation.graph[-1] == "DEFAULT":
            return name.upper()
    return None


def _without_final_semicolon(update: str) -> str:
    """The update without a `;` ending it (more operations follow it in one request)."""
    syntax = re.sub(NOT_SYNTAX, lambda token: " " * len(token.group(0)), update).rstrip()
    return update[: len(syntax) - 1] if syntax.endswith(";") else update


def run_update(store_dir: Path, ns: Namespaces, update: str, dataset: Dataset,
               base_iri: str | None, backend: Backend | None = None) -> Manifest:
    """Apply a SPARQL Update as a new build (on `backend`, if given); return the new build's
    manifest."""
    text = add_using(update, dataset)
    if backend is not None:
        # Parsed here first, on an empty store, for the embedded store's messages: unless it
        # would reach out (LOAD, SERVICE), which only the backend may do.
        if not _LOAD.search(re.sub(NOT_SYNTAX, " ", text)) and not mentions_service(text):
            try:
                ox.Store().update(text, base_iri=base_iri, prefixes=ns.prefixes())
            except SyntaxError as error:
                raise QueryError(f"the update does not parse: {error}") from None
            except (OSError, ValueError):
                pass  # it parses; the backend will say what it makes of it
        declarations = prologue(ns.prefixes(), base_iri)
        adds = _adds_to_default_graph(text, ns.prefixes(), base_iri)
        if adds:
            raise QueryError(f"{adds} writes to the default graph, which on a SPARQL backend is "
                             "only the union of the named graphs: write into a named graph, "
                             f"such as GRAPH <{ns.graph('default')}> {{ ... }}")
        return _write_remote(backend, "update", text, _without_final_semicolon(text) + "\n",
                             declarations)

    def change(store: ox.Store) -> None:
        try:
            store.update(text, base_iri=base_iri, prefixes=ns.prefixes())
        except SyntaxError as error:
            raise QueryError(f"the update does not parse: {error}") from None
        except (OSError, ValueError) as error:
            raise QueryError(f"the update failed: {error}") from None

    return _write(store_dir, ns, "update", text, change)


def put_graph(store_dir: Path, ns: Namespaces, graph: str, data: bytes, media_type: str,
              replace_graph: bool, base_iri: str | None,
              backend: Backend | None = None) -> Manifest:
    """Graph Store PUT (replace) or POST (add): RDF in `media_type` into `graph`."""
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise UnsupportedMediaType(f"{media_type or 'no Content-Type'} is not an RDF format "
                                   "this store reads (Turtle, N-Triples, RDF/XML, JSON-LD, ...)")
    try:
        triples = [ox.Triple(q.subject, q.predicate, q.object) for q in
                   ox.parse(data, fmt, base_iri=base_iri)]
    except SyntaxError as error:
        raise QueryError(f"the RDF does not parse: {error}") from None
    target = ox.NamedNode(graph)
    digest = hashlib.sha256(data).hexdigest()
    change_text = f"{'PUT' if replace_graph else 'POST'} {graph} {digest}"
    if backend is not None:
        # N-Triples lines are SPARQL's own syntax for triples.
        body = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        operations = f"INSERT DATA {{ GRAPH {target} {{\n{body}}} }}"
        if replace_graph:
            operations = f"DROP SILENT GRAPH {target} ;\n{operations}"
        return _write_remote(backend, "gsp", change_text, operations)

    def change(store: ox.Store) -> None:
        if replace_graph and store.contains_named_graph(target):
            store.remove_graph(target)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, target) for t in triples)

    return _write(store_dir, ns, "gsp", change_text, change)


def delete_graph(store_dir: Path, ns: Namespaces, graph: str,
                 backend: Backend | None = None) -> Manifest:
    """Graph Store DELETE: drop `graph`."""
    target = ox.NamedNode(graph)
    if backend is not None:
        return _write_remote(backend, "gsp", f"DELETE {graph}", f"DROP GRAPH {target}")

    def change(store: ox.Store) -> None:
        store.remove_graph(target)

    return _write(store_dir, ns, "gsp", f"DELETE {graph}", change)
