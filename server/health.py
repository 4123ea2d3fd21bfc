"""GET /health: is a store being served, and which build."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from server.store import get_build

__all__ = ["blueprint"]

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> Response:
    """200 with the build served; 503 (from the error handler) when there is no store."""
    store = get_build()
    return jsonify({"status": "ok", "build": store.manifest.build_id,
                    "dataset_version": store.manifest.dataset_version})
