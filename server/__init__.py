"""The crisiskg web app: the SPARQL endpoint (and, later, pages, saved queries, exports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from kg.settings import Settings

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from defaults, then KG_* variables, then `config`."""
    app = Flask(__name__)
    overrides = dict(config or {})
    settings = overrides.pop("KG_SETTINGS", None) or Settings.from_env()
    app.config.update(KG_SETTINGS=settings, **overrides)

    from server import errors, sparql, store

    store.init_app(app)
    errors.init_app(app)
    app.register_blueprint(sparql.blueprint)
    return app
