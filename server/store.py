"""The store, opened once per process and handed out with `get_store()` (flaskr's db.py pattern).

Each request checks where `current` points (a readlink, microseconds) and reopens when a build
has switched it, so every worker serves the newest build; the old one is released, and a later
build may then prune it.
"""

from __future__ import annotations

from flask import Flask, current_app

from kg.executor import QueryExecutor
from kg.settings import Settings
from kg.store import ReadStore, current_build
from server.cache import AnswerCache

__all__ = ["get_cache", "get_executor", "get_store", "init_app"]

_KEY = "kg_store"
_EXECUTOR = "kg_executor"


def get_store() -> ReadStore:
    """The current build, opened read-only in this process (after the fork, in gunicorn)."""
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
