"""The one place errors become HTTP responses: each KGError knows its status."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from kg.errors import KGError

__all__ = ["init_app"]


def _kg_error(error: KGError) -> tuple[Response, int]:
    body = {"error": type(error).__name__, "message": error.message,
            "problems": [str(p) for p in error.problems]}
    response = jsonify(body)
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="crisiskg"'
    return response, error.status


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    return jsonify({"error": error.name, "message": error.description}), status


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(KGError, _kg_error)
    app.register_error_handler(HTTPException, _http_error)
