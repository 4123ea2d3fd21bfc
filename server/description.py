"""GET /sparql without a query: the Service Description, in the format the client asks for."""

from __future__ import annotations

from flask import Response, request

from kg.description import describe_service
from kg.sparql import GRAPH, serialize_triples
from server.negotiation import choose
from server.store import get_store

__all__ = ["service_description"]


def service_description(endpoint: str) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint."""
    fmt = choose(GRAPH, request.accept_mimetypes, request.args.get("format"))
    triples = describe_service(endpoint, get_store().named_graphs())
    response = Response(serialize_triples(triples, fmt), mimetype=fmt.media_type)
    response.headers["Vary"] = "Accept"
    return response
