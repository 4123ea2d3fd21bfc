"""What a worker process holds: the build it serves, its evaluators, its answer cache
(handed out like flaskr's `get_db()`).

Each request checks where `current` points (a readlink, microseconds), so every worker serves
the newest build from its next request. Queries never open the store in the worker: they name
the build to the evaluator processes, which open it. Only the service description and Graph
Store reads open it here, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app

from kg.errors import StoreError
from kg.executor import QueryExecutor
from kg.settings import Settings
from kg.store import Manifest, ReadStore, current_build, read_manifest
from server.cache import AnswerCache

__all__ = ["Build", "get_build", "get_cache", "get_executor", "get_store", "init_app"]

_KEY = "kg_store"
_EXECUTOR = "kg_executor"


@dataclass(frozen=True)
class Build:
    """The build being served: its folder and manifest (its store is the evaluators' to open)."""

    path: Path
    manifest: Manifest


def get_build() -> Build:
    """The current build, without opening its store: queries run in the evaluator processes,
    so a web worker needs only to know which build to name, and its version."""
    settings: Settings = current_app.config["KG_SETTINGS"]
    path = current_build(settings.store_dir)
    if path is None:
        raise StoreError(f"no store has been built in {settings.store_dir}; run `kg build` first")
    cached: Build | None = current_app.extensions.get("kg_build")
    if cached is None or cached.path != path:
        cached = Build(path, read_manifest(path))
        current_app.extensions["kg_build"] = cached
    return cached


def get_store() -> ReadStore:
    """The current build's store, opened read-only in this process, for the few views that read
    it here (the service description, Graph Store reads); queries go to the evaluators."""
    state = current_app.extensions
    settings: Settings = current_app.config["KG_SETTINGS"]
    store: ReadStore | None = state.get(_KEY)
    if store is None or store.build != current_build(settings.store_dir):
        fresh = ReadStore.open_current(settings.store_dir)
        if store is not None:
            store.close()
        state[_KEY] = store = fresh
    return store


def get_executor() -> QueryExecutor:
    """This process's query executor (a killable child process), started on first use."""
    state = current_app.extensions
    if state.get(_EXECUTOR) is None:
        settings: Settings = current_app.config["KG_SETTINGS"]
        state[_EXECUTOR] = QueryExecutor(settings.query_timeout)
    executor: QueryExecutor = state[_EXECUTOR]
    return executor


def get_cache() -> AnswerCache:
    """This process's cache of answers."""
    cache: AnswerCache = current_app.extensions["kg_cache"]
    return cache


def init_app(app: Flask) -> None:
    """Register the store, executor and cache slots on the app."""
    app.extensions[_KEY] = None
    app.extensions[_EXECUTOR] = None
    app.extensions["kg_cache"] = AnswerCache(max_bytes=64 * 1024 * 1024,
                                             max_answer_bytes=8 * 1024 * 1024)
