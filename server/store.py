"""What a worker process holds: the store it serves, opened read-only, and its answer cache
(handed out like flaskr's `get_db()`).

Each request checks which build is current, so every worker serves the newest build from its
next request: on the embedded store, where `current` points (a readlink, microseconds); on a
remote backend (KG_BACKEND), the manifest the backend holds (one small query a request).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from flask import Flask, current_app, g

from kg.backends import backend_of
from kg.errors import StoreError
from kg.namespaces import Namespaces
from kg.remote import RemoteStore, read_remote_manifest
from kg.settings import Settings
from kg.store import GraphStore, Manifest, ReadStore, current_build, read_manifest
from server.cache import AnswerCache

__all__ = ["Build", "get_build", "get_cache", "get_prefixes", "get_store", "init_app",
           "per_build"]

_KEY = "kg_store"
_REMOTE_KEY = "kg_remote_store"
T = TypeVar("T")


@dataclass(frozen=True)
class Build:
    """The build being served: its folder and manifest."""

    path: Path
    manifest: Manifest


def get_build() -> Build:
    """The current build, without opening its store (for /health)."""
    settings: Settings = current_app.config["KG_SETTINGS"]
    if settings.backend is not None:
        remote = _remote_store(settings)
        return Build(remote.build, remote.manifest)
    path = current_build(settings.store_dir)
    if path is None:
        raise StoreError(f"no store has been built in {settings.store_dir}; run `kg build` first")
    cached: Build | None = current_app.extensions.get("kg_build")
    if cached is None or cached.path != path:
        cached = Build(path, read_manifest(path))
        current_app.extensions["kg_build"] = cached
    return cached


def get_store() -> GraphStore:
    """The current build's store, opened read-only in this process on first use."""
    state = current_app.extensions
    settings: Settings = current_app.config["KG_SETTINGS"]
    if settings.backend is not None:
        return _remote_store(settings)
    try:
        # Build ids are unique, so the link's text names the build: one system call per
        # request tells whether a build or a write has switched it since.
        link: str | None = os.readlink(settings.store_dir / "current")
    except OSError:
        link = None
    opened: tuple[str | None, ReadStore] | None = state.get(_KEY)
    if opened is not None and link is not None and opened[0] == link:
        return opened[1]
    if opened is not None and opened[1].build == current_build(settings.store_dir):
        return opened[1]
    fresh = ReadStore.open_current(settings.store_dir)
    if opened is not None:
        opened[1].close()
    state[_KEY] = (link, fresh)
    return fresh


def _remote_store(settings: Settings) -> RemoteStore:
    """The backend's current build, asked once a request."""
    if "kg_remote" in g:
        remote: RemoteStore = g.kg_remote
        return remote
    backend = backend_of(settings)
    assert backend is not None
    state = current_app.extensions
    session = state.get("kg_backend_session")
    if session is None:
        session = state["kg_backend_session"] = backend.session()
    manifest = read_remote_manifest(backend, session)
    opened: RemoteStore | None = state.get(_REMOTE_KEY)
    if opened is None or opened.manifest != manifest:
        opened = RemoteStore.open(backend, settings.store_dir, session, manifest)
        state[_REMOTE_KEY] = opened
    g.kg_remote = opened
    return opened


def per_build(name: str, make: Callable[[GraphStore], T]) -> T:
    """A value derived from the build being served (an index, the document texts), made once
    per process and build, and made again after a build switch."""
    path = get_build().path
    cached: tuple[Path, T] | None = current_app.extensions.get(f"kg_derived_{name}")
    if cached is None or cached[0] != path:
        cached = (path, make(get_store()))
        current_app.extensions[f"kg_derived_{name}"] = cached
    return cached[1]


def get_prefixes() -> dict[str, str]:
    """The prefixes predeclared for every query and page (the same dict each time: read it,
    never change it)."""
    return _prefixes(current_app.config["KG_SETTINGS"].base_iri)


@functools.lru_cache(maxsize=4)
def _prefixes(base_iri: str) -> dict[str, str]:
    return Namespaces(base_iri).prefixes()


def get_cache() -> AnswerCache:
    """This process's cache of answers."""
    cache: AnswerCache = current_app.extensions["kg_cache"]
    return cache


def init_app(app: Flask) -> None:
    """Register the store and cache slots on the app."""
    app.extensions[_KEY] = None
    app.extensions["kg_cache"] = AnswerCache(max_bytes=32 * 1024 * 1024,
                                             max_answer_bytes=1024 * 1024,
                                             disk_bytes=1024 * 1024 * 1024)
