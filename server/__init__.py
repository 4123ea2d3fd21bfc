"""The crisiskg web app: the SPARQL endpoint (and, later, pages, saved queries, exports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_cors import CORS

from kg.settings import Settings

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: settings from defaults, then KG_* variables, then `config`."""
    app = Flask(__name__)
    overrides = dict(config or {})
    settings = overrides.pop("KG_SETTINGS", None) or Settings.from_env()
    app.config.update(KG_SETTINGS=settings, MAX_CONTENT_LENGTH=1024 * 1024, **overrides)

    from server import errors, health, limits, metrics, sparql, store, writes

    store.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    app.register_blueprint(sparql.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    app.register_blueprint(writes.blueprint)
    # Reads are open to any origin: YASGUI, notebooks and other sites query the endpoint.
    CORS(app, resources={r"/sparql": {"origins": "*"}, r"/health": {"origins": "*"}},
         send_wildcard=True, expose_headers=["KG-Result-Truncated"])
    return app
