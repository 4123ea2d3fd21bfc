"""The one exception hierarchy of crisiskg.

KGError                      every error a user can act on; `status` is its HTTP status
 ├── AnnotationError         the corpus does not validate (many problems, each with file:line)
 ├── LoadError               a file given to `kg load` cannot be read as RDF (file:line)
 ├── ShapeViolation          the built graph breaks a SHACL shape
 ├── InconsistentGraph       HermiT finds ontology + data inconsistent
 ├── StoreError              no store is built, or the store cannot be opened or switched
 │    └── StoreBusy          another build or write holds the store; retry shortly (503)
 ├── QueryError              a SPARQL query does not parse or cannot be evaluated
 │    ├── NotAcceptable      no format the client accepts can serve the result (406)
 │    ├── UnsupportedMediaType  a request body of a type the endpoint does not take (415)
 │    └── ParameterError     a saved query's parameter is missing, unknown or of the wrong type
 ├── QueryTimeout            a query ran past the time limit and was stopped (503)
 ├── UpdatesDisabled         a write to a read-only endpoint (403)
 ├── Unauthorized            a write without the admin token (401)
 ├── Forbidden               a write with a wrong admin token (403)
 ├── NotFound                a graph the Graph Store, or a saved query, that does not exist (404)
 ├── VersionGone             a permalink pins a dataset version this server no longer serves (410)
 └── SettingsError           a setting (KG_* variable or option) has an unusable value

The CLI turns these into a message and an exit code in one place (kg.cli); the server into an
HTTP response in one place (server.errors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AnnotationError",
    "Forbidden",
    "InconsistentGraph",
    "KGError",
    "LoadError",
    "NotAcceptable",
    "NotFound",
    "ParameterError",
    "Problem",
    "QueryError",
    "QueryTimeout",
    "SettingsError",
    "ShapeViolation",
    "StoreBusy",
    "StoreError",
    "Unauthorized",
    "UnsupportedMediaType",
    "UpdatesDisabled",
    "VersionGone",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where, what, and how to fix it."""

    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: {self.what}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class KGError(Exception):
    """Base of every error crisiskg reports to a user."""

    status = 500
    exit_code = 1
    #: HTTP headers the response to this error carries.
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class AnnotationError(KGError):
    """The annotated corpus is invalid; `problems` lists every defect found."""

    status = 400
    exit_code = 2


class LoadError(KGError):
    """A file to load is missing, of an unknown format, or not valid RDF in its format."""

    status = 400
    exit_code = 2


class ShapeViolation(KGError):
    """The graph built from the corpus does not conform to the SHACL shapes."""

    status = 400
    exit_code = 3


class InconsistentGraph(KGError):
    """The reasoner found the ontology together with the data inconsistent."""

    status = 400
    exit_code = 4


class StoreError(KGError):
    """The store is missing, unreadable, or could not be written or switched."""

    status = 503
    exit_code = 5


class QueryError(KGError):
    """A SPARQL query is malformed or cannot be evaluated."""

    status = 400
    exit_code = 6


class SettingsError(KGError):
    """A setting has a value crisiskg cannot use."""

    status = 500
    exit_code = 7


class NotAcceptable(QueryError):
    """No format the client accepts can serialize this kind of result."""

    status = 406


class UnsupportedMediaType(QueryError):
    """The request body is of a media type (or charset) the endpoint does not take."""

    status = 415


class ParameterError(QueryError):
    """A saved query's parameter is missing, unknown, or not a value of its type."""

    status = 400


class UpdatesDisabled(KGError):
    """SPARQL Update or a Graph Store write on an endpoint that is read-only."""

    status = 403
    exit_code = 8


class QueryTimeout(KGError):
    """A query ran past the time limit; its evaluation was stopped."""

    status = 503
    exit_code = 9


class Unauthorized(KGError):
    """A write without credentials."""

    status = 401
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": 'Bearer realm="crisiskg"'}
    exit_code = 8


class Forbidden(KGError):
    """A write with the wrong credentials."""

    status = 403
    exit_code = 8


class NotFound(KGError):
    """A graph (or resource) that does not exist."""

    status = 404
    exit_code = 5


class VersionGone(KGError):
    """A permalink pins a dataset version other than the one served: its answer may differ."""

    status = 410
    exit_code = 5


class StoreBusy(StoreError):
    """Another build or write is changing the store: try again in a moment."""

    headers: ClassVar[Mapping[str, str]] = {"Retry-After": "5"}
