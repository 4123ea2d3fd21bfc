"""The crisiskg web app: the SPARQL endpoint, pages, saved queries, Linked Data, exports."""

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

    from server import (
        api,
        assets,
        errors,
        exports,
        health,
        home,
        limits,
        metrics,
        queries,
        reconcile,
        resources,
        sparql,
        store,
        void,
        writes,
    )

    store.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    for module in (sparql, health, metrics, writes, queries, assets, api, home, resources,
                   reconcile, exports, void):
        app.register_blueprint(module.blueprint)
    # Reads are open to any origin: YASGUI, notebooks, Swagger UI and other sites query them.
    CORS(app, resources={path: {"origins": "*"} for path in
                         (r"/sparql", r"/health", r"/queries.*", r"/openapi.json",
                          r"/resource/.*", r"/vocab/.*", r"/ontology.*", r"/graph/.*",
                          r"/shapes.*", r"/reconcile.*", r"/export.*", r"/context.jsonld",
                          r"/dataset.*", r"/.well-known/void")},
         send_wildcard=True, expose_headers=["KG-Result-Truncated"])
    return app
