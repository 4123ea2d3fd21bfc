"""The SPARQL 1.1 Protocol endpoint at /sparql (query) and /update.

GET `?query=`, POST `application/x-www-form-urlencoded` and POST `application/sparql-query`;
`default-graph-uri` and `named-graph-uri` set the dataset; exactly one query per request.
Without a query, GET answers with the SPARQL Service Description (or, for a browser, a form).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.datastructures import MultiDict

from kg.errors import (
    KGError,
    NotAcceptable,
    QueryError,
    QueryTimeout,
    UnsupportedMediaType,
)
from kg.executor import QueryRequest
from kg.namespaces import Namespaces
from kg.querying import mentions_service
from kg.sparql import BOOLEAN, GRAPH, SOLUTIONS, Dataset
from server.cache import etag_for
from server.description import service_description
from server.metrics import ANSWERS
from server.negotiation import choose
from server.store import get_build, get_cache, get_executor

__all__ = ["blueprint"]

blueprint = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
#: Set when the answer was cut at the row cap: "true; rows=<cap>".
TRUNCATED = "KG-Result-Truncated"


@blueprint.route("/sparql", methods=["GET", "POST"])
def query() -> Response:
    """Answer one SPARQL query, or describe the service when there is none."""
    text = _query_text()
    if text is None:
        if request.accept_mimetypes.best == "text/html":
            return Response(render_template("sparql.html"), mimetype="text/html")
        return service_description(request.base_url)
    if mentions_service(text):
        # Until federation has an allow-list, SERVICE would let anyone make this server send
        # requests to any address, internal ones included.
        raise QueryError("federated queries (SERVICE) are not enabled on this endpoint")
    settings = current_app.config["KG_SETTINGS"]
    store = get_build()
    query_request = QueryRequest(
        build=str(store.path),
        query=text,
        dataset=_dataset(),
        prefixes=Namespaces(settings.base_iri).prefixes(),
        base_iri=request.base_url,
        formats={kind: _format_for(kind) for kind in (SOLUTIONS, BOOLEAN, GRAPH)},
        row_cap=settings.row_cap,
        timeout=settings.query_timeout,
    )
    # The build id, unique to each build and write, not only the dataset version: a rebuild
    # can reproduce an older version with different blank nodes or NOW() values.
    etag = etag_for(store.manifest.build_id, store.manifest.dataset_version, query_request.query,
                    query_request.dataset, query_request.base_iri,
                    sorted(query_request.formats.items()), query_request.row_cap)
    if request.if_none_match.contains(etag):
        ANSWERS.labels("not_modified").inc()
        return _answer_headers(Response(status=304), etag, truncated=False)
    cache = get_cache()
    cached = cache.get(etag)
    if cached is not None:
        ANSWERS.labels("cache_hit").inc()
        return _answer_headers(Response(cached.body, mimetype=cached.media_type), etag,
                               cached.truncated)
    try:
        result = get_executor().run(query_request)
    except QueryTimeout:
        ANSWERS.labels("timeout").inc()
        raise
    except KGError:
        ANSWERS.labels("error").inc()
        raise
    ANSWERS.labels("ok").inc()
    body = cache.keep_while_streaming(etag, result.chunks, result.format.media_type,
                                      result.truncated)
    return _answer_headers(Response(body, mimetype=result.format.media_type), etag,
                           result.truncated)


def _answer_headers(response: Response, etag: str, truncated: bool) -> Response:
    response.set_etag(etag)
    response.headers["Vary"] = "Accept"
    if truncated:
        response.headers[TRUNCATED] = f"true; rows={current_app.config['KG_SETTINGS'].row_cap}"
    return response


def _format_for(kind: str) -> tuple[str, str]:
    """Content negotiation for one kind of result, decided before the query runs."""
    try:
        format_param = _parameters().get("format")
        return ("format", choose(kind, request.accept_mimetypes, format_param).name)
    except NotAcceptable as error:
        return (type(error).__name__, error.message)


def _parameters() -> MultiDict[str, str]:
    """Protocol parameters from the URL and, for form posts, the body."""
    parameters: MultiDict[str, str] = MultiDict(request.args)
    if request.method == "POST" and request.mimetype == FORM:
        for key, values in request.form.lists():
            for value in values:
                parameters.add(key, value)
    return parameters


def _query_text() -> str | None:
    parameters = _parameters()
    if "update" in parameters or request.mimetype == UPDATE:
        raise QueryError("this is the query endpoint: send updates by POST to /update")
    queries = parameters.getlist("query")
    if request.method == "POST" and request.mimetype == QUERY:
        if queries:
            raise QueryError("give the query either as the body or as `query`, not both")
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"the query must be UTF-8, not {charset}")
        try:
            return request.get_data().decode("utf-8")
        except UnicodeDecodeError as error:
            raise QueryError(f"the query is not valid UTF-8 (byte {error.start})") from None
    if request.method == "POST" and request.mimetype != FORM:
        raise UnsupportedMediaType(
            f"a query is POSTed as {FORM} (query=...) or as {QUERY}, not as "
            f"{request.mimetype or 'a body without Content-Type'}")
    if len(queries) > 1:
        raise QueryError(f"give exactly one query, not {len(queries)}")
    if not queries:
        if request.method == "POST":
            raise QueryError("missing `query` parameter")
        return None
    return queries[0]


def _dataset() -> Dataset:
    parameters = _parameters()
    return Dataset(tuple(parameters.getlist("default-graph-uri")),
                   tuple(parameters.getlist("named-graph-uri")))
