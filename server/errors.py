"""The one place errors become HTTP responses: each KGError knows its status."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kg.errors import KGError
from server.negotiation import prefers_html

__all__ = ["init_app", "response_later"]


def _kg_error(error: KGError) -> tuple[Response, int]:
    body = {"error": type(error).__name__, "message": error.message,
            "problems": [str(p) for p in error.problems]}
    if prefers_html(request.accept_mimetypes, ["application/json"]):
        # A person who followed a link (an old permalink, say) reads a page, not JSON.
        response = Response(render_template("error.html", status=error.status, **body),
                            mimetype="text/html")
    else:
        response = jsonify(body)
    response.headers.update(error.headers)
    return response, error.status


def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    return jsonify({"error": error.name, "message": error.description}), status


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(KGError, _kg_error)
    app.register_error_handler(HTTPException, _http_error)


def response_later(error: KGError) -> Callable[[], Response]:
    """A function that makes the response for `error` to the current request, as the app
    would (CORS headers included), from another thread: the worker's watchdog calls it when a
    query passes its deadline."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    environ = request.environ

    def respond() -> Response:
        with app.request_context(environ):
            response = app.make_response(app.handle_user_exception(error))
            return app.process_response(response)

    return respond
