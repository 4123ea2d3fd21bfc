"""Writes over HTTP, only with the admin token: SPARQL Update at /update, and the Graph Store
HTTP Protocol at /store (reads of /store are open, like queries).

Without KG_ADMIN_TOKEN the endpoint is read-only and every write is refused with 403. With it,
a write needs `Authorization: Bearer <token>` (compared in constant time): 401 without it, 403
with a wrong one. A write becomes a new build that every worker serves from its next request.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request, url_for

from kg.backends import backend_of
from kg.errors import (
    Forbidden,
    NotFound,
    QueryError,
    Unauthorized,
    UnsupportedMediaType,
    UpdatesDisabled,
)
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.sparql import GRAPH, Dataset, serialize_triples
from kg.writes import delete_graph, put_graph, run_update
from server.bodies import FORM, UPDATE, utf8_text
from server.negotiation import choose
from server.store import get_store

__all__ = ["blueprint"]

blueprint = Blueprint("writes", __name__)

def _settings() -> Settings:
    settings: Settings = current_app.config["KG_SETTINGS"]
    return settings


def _require_admin() -> None:
    token = _settings().admin_token
    if token is None:
        raise UpdatesDisabled("this endpoint is read-only: writes are not enabled")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthorized("writes need the admin token: Authorization: Bearer <token>")
    if not hmac.compare_digest(given.encode(), token.encode()):
        raise Forbidden("the admin token is not right")



def _written(status: int = 204) -> Response:
    response = Response(status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/update", methods=["POST"])
def update() -> Response:
    """Apply one SPARQL Update."""
    _require_admin()
    parameters = request.values  # the URL's and, for a form post, the body's
    if request.mimetype == FORM:
        updates = parameters.getlist("update")
        if len(updates) != 1:
            raise QueryError(f"give exactly one update, not {len(updates)}")
        text = updates[0]
    elif request.mimetype == UPDATE:
        text = utf8_text("the update")
    else:
        raise UnsupportedMediaType(f"an update is POSTed as {FORM} (update=...) or as {UPDATE}, "
                                   f"not as {request.mimetype or 'a body without Content-Type'}")
    dataset = Dataset(tuple(parameters.getlist("using-graph-uri")),
                      tuple(parameters.getlist("using-named-graph-uri")))
    settings = _settings()
    run_update(settings.store_dir, Namespaces(settings.base_iri), text, dataset,
               base_iri=url_for("sparql.query", _external=True), backend=backend_of(settings))
    return _written()


def _graph_iri() -> str:
    """The graph a Graph Store request is about: ?graph=<iri> or ?default."""
    settings = _settings()
    if "default" in request.args and "graph" not in request.args:
        return Namespaces(settings.base_iri).graph("default")
    graphs = request.args.getlist("graph")
    if len(graphs) != 1 or "default" in request.args:
        raise QueryError("name one graph: ?graph=<IRI>, or ?default")
    Dataset((graphs[0],))  # validates the IRI
    return graphs[0]


@blueprint.get("/store")
def read_graph() -> Response:
    """Graph Store GET: the graph in the RDF format the client accepts."""
    graph = _graph_iri()
    store = get_store()
    if not store.contains_named_graph(graph):
        raise NotFound(f"there is no graph <{graph}>")
    fmt = choose(GRAPH, request.accept_mimetypes, request.args.get("format"))
    return Response(serialize_triples(store.triples(graph), fmt), mimetype=fmt.media_type)


@blueprint.route("/store", methods=["PUT", "POST"])
def write_graph() -> Response:
    """Graph Store PUT (replace the graph) or POST (add to it)."""
    _require_admin()
    graph = _graph_iri()
    existed = get_store().contains_named_graph(graph)
    settings = _settings()
    put_graph(settings.store_dir, Namespaces(settings.base_iri), graph, request.get_data(),
              request.mimetype, replace_graph=request.method == "PUT", base_iri=graph,
              backend=backend_of(settings))
    return _written(201 if not existed else 204)


@blueprint.delete("/store")
def remove_graph() -> Response:
    """Graph Store DELETE: drop the graph."""
    _require_admin()
    graph = _graph_iri()
    if not get_store().contains_named_graph(graph):
        raise NotFound(f"there is no graph <{graph}>")
    settings = _settings()
    delete_graph(settings.store_dir, Namespaces(settings.base_iri), graph,
                 backend=backend_of(settings))
    return _written()
