"""Request bodies stay within MAX_CONTENT_LENGTH, chunked ones included.

Werkzeug answers 413 when a declared Content-Length is too large, but a chunked body has none,
and its limited stream then stops reading at the limit without a word: a write would be stored
cut short. So a chunked body is read here, at most one byte past the limit, before anything
parses it.
"""

from __future__ import annotations

import io

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

__all__ = ["init_app"]


def _bound_chunked_body() -> None:
    if request.method not in ("POST", "PUT", "PATCH") or request.content_length is not None:
        return
    environ = request.environ
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() != "chunked":
        return
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    body = environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        raise RequestEntityTooLarge(f"the request body is over the limit of {limit} bytes")
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = False


def init_app(app: Flask) -> None:
    """Check chunked bodies before every view."""
    app.before_request(_bound_chunked_body)
