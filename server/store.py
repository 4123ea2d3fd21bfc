"""The store, opened once per process and handed out with `get_store()` (flaskr's db.py pattern)."""

from __future__ import annotations

from flask import Flask, current_app

from kg.settings import Settings
from kg.store import ReadStore

__all__ = ["get_store", "init_app"]

_KEY = "kg_store"


def get_store() -> ReadStore:
    """The current build, opened read-only on first use in this process.

    Opened lazily so that each gunicorn worker opens its own handle after the fork.
    """
    state = current_app.extensions
    if state.get(_KEY) is None:
        settings: Settings = current_app.config["KG_SETTINGS"]
        state[_KEY] = ReadStore.open_current(settings.store_dir)
    store: ReadStore = state[_KEY]
    return store


def init_app(app: Flask) -> None:
    """Register the store slot on the app."""
    app.extensions[_KEY] = None
