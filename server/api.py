"""The REST API of the saved queries, described in OpenAPI 3.1 (`/openapi.json`) and on a
page people read (`/api`): one operation per saved query, with its parameters."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from kg.saved_queries import Parameter, SavedQuery
from kg.sparql import BOOLEAN, GRAPH, SOLUTIONS, formats_for
from server.queries import get_catalog

__all__ = ["blueprint", "openapi_document"]

blueprint = Blueprint("api", __name__)

#: JSON Schema of each parameter type (OpenAPI 3.1 uses JSON Schema 2020-12).
_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri"},
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "boolean": {"type": "boolean"},
    "gYear": {"type": "string", "pattern": r"^-?\d{4,}$"},
    "string": {"type": "string"},
}
_ERROR = {"$ref": "#/components/responses/Error"}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


@blueprint.route("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document."""
    return jsonify(openapi_document())


@blueprint.route("/api")
def page() -> Response:
    """The API for people: each operation, its parameters, and a call to copy."""
    document = openapi_document()
    return Response(render_template("api.html", api=document, server=document["servers"][0]
                                    ["url"]), mimetype="text/html")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of this server's saved queries and SPARQL endpoint."""
    queries = list(get_catalog().queries.values())
    paths: dict[str, Any] = {
        "/queries.json": {"get": {
            "operationId": "listSavedQueries", "summary": "Every saved query, with its "
            "parameters and where to run it", "tags": ["catalog"],
            "responses": {"200": {"description": "The saved queries",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}}}}},
        "/sparql": {"get": {
            "operationId": "sparqlQuery", "summary": "Any SPARQL 1.1 query (the SPARQL 1.1 "
            "Protocol; POST works too)", "tags": ["sparql"],
            "parameters": [{"name": "query", "in": "query", "required": True,
                            "schema": {"type": "string"}, "description": "The SPARQL query"},
                           _format_parameter([SOLUTIONS, BOOLEAN, GRAPH])],
            "responses": {"200": {"description": "The answer",
                                  "content": _content([SOLUTIONS, BOOLEAN, GRAPH])},
                          "400": _ERROR, "406": _ERROR, "503": _ERROR}}},
    }
    for query in queries:
        paths[url_for("queries.saved_query", address=query.name)] = {"get": _operation(query)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "crisiskg saved queries",
            "version": metadata.version("crisiskg"),
            "description": "Research questions about the crisiskg knowledge graph, each a saved "
                           "SPARQL query whose parameters are bound safely (never pasted into "
                           "the query). Answers in every SPARQL results format, by `format`, by "
                           "Accept, or by a suffix such as `.csv`.",
            "license": {"name": "Data CC-BY-4.0; code Apache-2.0",
                        "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": request.host_url.rstrip("/")}],
        "tags": [{"name": t} for t in sorted({t for q in queries for t in q.tags})],
        "paths": paths,
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["error", "message"],
                                  "properties": {"error": {"type": "string"},
                                                 "message": {"type": "string"},
                                                 "problems": {"type": "array",
                                                              "items": {"type": "string"}}}}},
            "responses": {"Error": {
                "description": "What went wrong and how to fix it",
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


def _operation(query: SavedQuery) -> dict[str, Any]:
    description = query.description
    if query.needs_internet:
        description += ("\n\nUses SERVICE to reach another endpoint: it runs only if this "
                        "server allows that endpoint (400 otherwise) and can reach it.")
    responses: dict[str, Any] = {
        "200": {"description": "The answer", "content": _content([query.kind])},
        "400": _ERROR, "406": _ERROR,
        "410": {"description": "`version` pins a dataset version this server no longer "
                               "serves", "content": _ERROR_CONTENT},
        "503": _ERROR,
    }
    return {
        "operationId": _operation_id(query.name),
        "summary": query.summary,
        "description": description.strip(),
        "tags": list(query.tags),
        "parameters": [*(_parameter(p) for p in query.parameters),
                       _format_parameter([query.kind]),
                       {"name": "version", "in": "query", "required": False,
                        "schema": {"type": "string"},
                        "description": "Pin the dataset version (answers 410 if another "
                                       "version is served)"}],
        "responses": responses,
    }


def _operation_id(name: str) -> str:
    head, *rest = name.replace("_", "-").split("-")
    return head + "".join(word.capitalize() for word in rest)


def _parameter(parameter: Parameter) -> dict[str, Any]:
    schema = dict(_SCHEMAS.get(parameter.type, {"type": "string"}))
    if parameter.choices:
        schema["enum"] = list(parameter.choices)
    if parameter.default is not None:
        schema["default"] = _typed(parameter.default, schema["type"])
    return {"name": parameter.name, "in": "query", "required": parameter.required
            and parameter.default is None, "description": f"{parameter.expects}", "schema": schema}


def _typed(value: str, json_type: str) -> Any:
    """A default in its JSON type (the header gives it as text)."""
    if json_type == "integer":
        return int(value)
    if json_type == "number":
        return float(value)
    if json_type == "boolean":
        return value == "true"
    return value


def _format_parameter(kinds: list[str]) -> dict[str, Any]:
    names = list(dict.fromkeys(f.name for kind in kinds for f in formats_for(kind)))
    return {"name": "format", "in": "query", "required": False,
            "schema": {"type": "string", "enum": names},
            "description": "The result format (overrides Accept)"}


def _content(kinds: list[str]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    for kind in kinds:
        for fmt in formats_for(kind):
            schema = {"type": "object"} if fmt.media_type.endswith("json") else {"type": "string"}
            content.setdefault(fmt.media_type, {"schema": schema})
    return content
