"""Request bodies of the SPARQL protocols: their media types, and a body read as UTF-8 text."""

from __future__ import annotations

from flask import request

from kg.errors import QueryError, UnsupportedMediaType

__all__ = ["FORM", "QUERY", "UPDATE", "utf8_text"]

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


def utf8_text(what: str) -> str:
    """The request body as text; `what` names it in errors ("the query", "the update")."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"{what} must be UTF-8, not {charset}")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError as error:
        raise QueryError(f"{what} is not valid UTF-8 (byte {error.start})") from None
