"""The SPARQL endpoint: GET /sparql?query=... answered with SPARQL JSON results (Turtle for graphs).

The full SPARQL 1.1 Protocol (POST, content negotiation, every format) comes in a later release.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from kg.errors import QueryError
from kg.namespaces import Namespaces
from kg.querying import mentions_service, serialize_result
from server.store import get_store

__all__ = ["blueprint"]

blueprint = Blueprint("sparql", __name__)


@blueprint.get("/sparql")
def query() -> Response:
    """Evaluate the `query` parameter over the union of all graphs."""
    queries = request.args.getlist("query")
    if len(queries) != 1:
        raise QueryError("give exactly one `query` parameter" if queries else
                         "missing `query` parameter: GET /sparql?query=<SPARQL>")
    if mentions_service(queries[0]):
        # Until federation has an allow-list, SERVICE would let anyone make this server send
        # requests to any address, internal ones included.
        raise QueryError("federated queries (SERVICE) are not enabled on this endpoint")
    settings = current_app.config["KG_SETTINGS"]
    result = get_store().query(queries[0], prefixes=Namespaces(settings.base_iri).prefixes())
    serialized = serialize_result(result, "json")
    return Response(serialized.body, mimetype=serialized.media_type)
