"""The SPARQL 1.1 Protocol endpoint at /sparql (query) and /update.

GET `?query=`, POST `application/x-www-form-urlencoded` and POST `application/sparql-query`;
`default-graph-uri` and `named-graph-uri` set the dataset; exactly one query per request.
Without a query, GET answers with the SPARQL Service Description (or, for a browser, a form).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.wsgi import wrap_file

from kg.errors import (
    KGError,
    QueryError,
    QueryTimeout,
    UnsupportedMediaType,
)
from kg.evaluation import QueryRequest, evaluate
from kg.namespaces import Namespaces
from kg.querying import mentions_service
from kg.sparql import Answer, Dataset
from kg.store import ReadStore
from server.bodies import FORM, QUERY, UPDATE, utf8_text
from server.cache import CachedAnswer, StoredAnswer, etag_for
from server.description import service_description
from server.errors import response_later
from server.metrics import ANSWERS
from server.negotiation import choose_for_query
from server.store import get_cache, get_store
from server.worker import Deadline

__all__ = ["blueprint"]

blueprint = Blueprint("sparql", __name__)

#: Set when the answer was cut at the row cap: "true; rows=<cap>".
TRUNCATED = "KG-Result-Truncated"


@blueprint.route("/sparql", methods=["GET", "POST"])
def query() -> Response:
    """Answer one SPARQL query, or describe the service when there is none."""
    # The URL's parameters and, for a form post, the body's (Werkzeug combines them).
    parameters = request.values
    text = _query_text(parameters)
    base_url = request.base_url
    if text is None:
        if request.accept_mimetypes.best == "text/html":
            return Response(render_template("sparql.html"), mimetype="text/html")
        return service_description(base_url)
    if mentions_service(text):
        # Until federation has an allow-list, SERVICE would let anyone make this server send
        # requests to any address, internal ones included.
        raise QueryError("federated queries (SERVICE) are not enabled on this endpoint")
    settings = current_app.config["KG_SETTINGS"]
    store = get_store()
    formats = choose_for_query(request.headers.get("Accept"), parameters.get("format"))
    query_request = QueryRequest(
        query=text,
        dataset=Dataset(tuple(parameters.getlist("default-graph-uri")),
                        tuple(parameters.getlist("named-graph-uri"))),
        prefixes=_prefixes(settings.base_iri),
        base_iri=base_url,
        formats=dict(formats),
        row_cap=settings.row_cap,
    )
    # The build id, unique to each build and write, not only the dataset version: a rebuild
    # can reproduce an older version with different blank nodes or NOW() values.
    etag = etag_for(store.manifest.build_id, query_request.query, query_request.dataset,
                    query_request.base_iri, formats, query_request.row_cap)
    if request.if_none_match.contains(etag):
        ANSWERS.labels("not_modified").inc()
        return _answer_headers(Response(status=304), etag, truncated=False)
    cache = get_cache()
    cached = cache.get(etag, store.build)
    if isinstance(cached, StoredAnswer):
        ANSWERS.labels("cache_hit").inc()
        response = Response(wrap_file(request.environ, cached.file), mimetype=cached.media_type,
                            direct_passthrough=True)
        response.content_length = cached.length
        return _answer_headers(response, etag, cached.truncated)
    if cached is not None:
        ANSWERS.labels("cache_hit").inc()
        return _answer_headers(Response(cached.body, mimetype=cached.media_type), etag,
                               cached.truncated)
    try:
        answer = _evaluate(store, query_request, settings.query_timeout)
    except QueryTimeout:
        ANSWERS.labels("timeout").inc()
        raise
    except KGError:
        ANSWERS.labels("error").inc()
        raise
    ANSWERS.labels("ok").inc()
    cache.put(etag, store.build,
              CachedAnswer(answer.body, answer.format.media_type, answer.truncated))
    return _answer_headers(Response(answer.body, mimetype=answer.format.media_type), etag,
                           answer.truncated)


def _evaluate(store: ReadStore, query_request: QueryRequest, timeout: float) -> Answer:
    """Evaluate within the time limit. Under `kg serve` the worker stops a query that runs
    past it (server.worker); elsewhere (Flask's dev server, the test client) nothing can stop
    it, so the limit is only checked once the query is done."""
    expired = QueryTimeout(f"the query ran past the time limit of {timeout:g} s and was "
                           "stopped; narrow it (a LIMIT, more specific patterns) and retry")
    deadline: Deadline | None = request.environ.get("kg.deadline")
    if deadline is None:
        started = time.monotonic()
        answer = evaluate(store, query_request)
        if time.monotonic() - started > timeout:
            raise expired
        return answer
    deadline.arm(timeout, _timed_out(expired))
    try:
        return evaluate(store, query_request)
    finally:
        deadline.disarm()


def _timed_out(error: QueryTimeout) -> Callable[[], Response]:
    respond = response_later(error)

    def count_and_respond() -> Response:
        ANSWERS.labels("timeout").inc()
        return respond()

    return count_and_respond


def _answer_headers(response: Response, etag: str, truncated: bool) -> Response:
    response.set_etag(etag)
    response.headers["Vary"] = "Accept"
    if truncated:
        response.headers[TRUNCATED] = f"true; rows={current_app.config['KG_SETTINGS'].row_cap}"
    return response


def _query_text(parameters: MultiDict[str, str]) -> str | None:
    if "update" in parameters or request.mimetype == UPDATE:
        raise QueryError("this is the query endpoint: send updates by POST to /update")
    queries = parameters.getlist("query")
    if request.method == "POST" and request.mimetype == QUERY:
        if queries:
            raise QueryError("give the query either as the body or as `query`, not both")
        return utf8_text("the query")
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



@functools.lru_cache(maxsize=4)
def _prefixes(base_iri: str) -> dict[str, str]:
    return Namespaces(base_iri).prefixes()
