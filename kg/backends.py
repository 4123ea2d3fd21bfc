"""Which store a command or the server reads: the embedded one, or the remote SPARQL server
the settings name (KG_BACKEND)."""

from __future__ import annotations

from kg.remote import Backend, RemoteStore
from kg.settings import Settings
from kg.store import GraphStore, ReadStore

__all__ = ["backend_of", "open_store"]


def backend_of(settings: Settings) -> Backend | None:
    """The remote backend the settings name, or None for the embedded store."""
    if settings.backend is None:
        return None
    # A little longer than the query limit: the server stops a query itself at the limit.
    return Backend.at(settings.backend, settings.backend_update, settings.backend_store,
                      timeout=settings.query_timeout + 5)


def open_store(settings: Settings) -> GraphStore:
    """The current build, from the backend if one is set, else from the embedded store."""
    backend = backend_of(settings)
    if backend is not None:
        return RemoteStore.open(backend, settings.store_dir)
    return ReadStore.open_current(settings.store_dir)
