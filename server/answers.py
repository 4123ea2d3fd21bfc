"""Answering one query request, for every route that runs queries (/sparql, saved queries):
the ETag and 304, the answer cache, the time limit, metrics and the truncation header."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Response, current_app, request
from werkzeug.wsgi import wrap_file

from kg.errors import KGError, QueryTimeout
from kg.evaluation import QueryRequest, evaluate
from kg.federation import check_services
from kg.sparql import Answer
from kg.store import GraphStore
from server.cache import CachedAnswer, StoredAnswer, etag_for
from server.errors import response_later
from server.metrics import ANSWERS
from server.store import get_cache, get_store
from server.worker import Deadline

__all__ = ["TRUNCATED", "answer", "etag", "respond"]

#: Set when the answer was cut at the row cap: "true; rows=<cap>".
TRUNCATED = "KG-Result-Truncated"


def etag(query_request: QueryRequest) -> str:
    """The ETag of the answer to `query_request` from the store being served."""
    # The build id, unique to each build and write, not only the dataset version: a rebuild
    # can reproduce an older version with different blank nodes or NOW() values.
    substitutions = sorted((v.value, str(t)) for v, t in query_request.substitutions.items())
    return etag_for(get_store().manifest.build_id, query_request.query, query_request.dataset,
                    query_request.base_iri, sorted(query_request.formats.items()),
                    query_request.row_cap, substitutions)


def answer(query_request: QueryRequest, key: str) -> CachedAnswer | StoredAnswer:
    """The answer, from the cache under `key` or evaluated (and then cached)."""
    _refuse_service(query_request)
    return _cached_or_evaluated(query_request, key)


def _cached_or_evaluated(query_request: QueryRequest, key: str) -> CachedAnswer | StoredAnswer:
    store = get_store()
    cache = get_cache()
    cached = cache.get(key, store.build)
    if cached is not None:
        ANSWERS.labels("cache_hit").inc()
        return cached
    settings = current_app.config["KG_SETTINGS"]
    try:
        evaluated = _evaluate(store, query_request, settings.query_timeout)
    except QueryTimeout:
        ANSWERS.labels("timeout").inc()
        raise
    except KGError:
        ANSWERS.labels("error").inc()
        raise
    ANSWERS.labels("ok").inc()
    fresh = CachedAnswer(evaluated.body, evaluated.format.media_type, evaluated.truncated)
    cache.put(key, store.build, fresh)
    return fresh


def respond(query_request: QueryRequest) -> Response:
    """The HTTP response: 304 if the client has it, else the answer with its ETag."""
    _refuse_service(query_request)  # before any 304: a refused query has no answer to keep
    key = etag(query_request)
    # Weak comparison, as RFC 9110 asks for If-None-Match (a proxy that compresses makes the
    # tag weak); `*` is not honoured, since it would answer 304 for a query that fails.
    conditions = request.if_none_match
    if not conditions.star_tag and conditions.contains_weak(key):
        ANSWERS.labels("not_modified").inc()
        return _answer_headers(Response(status=304), key, truncated=False)
    found = _cached_or_evaluated(query_request, key)  # SERVICE was checked above
    if isinstance(found, StoredAnswer):
        response = Response(wrap_file(request.environ, found.file), mimetype=found.media_type,
                            direct_passthrough=True)
        response.content_length = found.length
    else:
        response = Response(found.body, mimetype=found.media_type)
    return _answer_headers(response, key, found.truncated)


def _refuse_service(query_request: QueryRequest) -> None:
    check_services(query_request.query, query_request.prefixes, query_request.base_iri,
                   current_app.config["KG_SETTINGS"].service_allow)


def _evaluate(store: GraphStore, query_request: QueryRequest, timeout: float) -> Answer:
    """Evaluate within the time limit. Under `kg serve` the worker stops a query that runs
    past it (server.worker); elsewhere (Flask's dev server, the test client) nothing can stop
    it, so the limit is only checked once the query is done."""
    expired = QueryTimeout(f"the query ran past the time limit of {timeout:g} s and was "
                           "stopped; narrow it (a LIMIT, more specific patterns) and retry")
    deadline: Deadline | None = request.environ.get("kg.deadline")
    if deadline is None:
        started = time.monotonic()
        evaluated = evaluate(store, query_request)
        if time.monotonic() - started > timeout:
            raise expired
        return evaluated
    deadline.arm(timeout, _timed_out(expired))
    try:
        return evaluate(store, query_request)
    finally:
        deadline.disarm()


def _timed_out(error: QueryTimeout) -> Callable[[], Response]:
    respond_later = response_later(error)

    def count_and_respond() -> Response:
        ANSWERS.labels("timeout").inc()
        return respond_later()

    return count_and_respond


def _answer_headers(response: Response, key: str, truncated: bool) -> Response:
    response.set_etag(key)
    response.headers["Vary"] = "Accept"
    if truncated:
        response.headers[TRUNCATED] = f"true; rows={current_app.config['KG_SETTINGS'].row_cap}"
    return response
