"""The SPARQL 1.1 Protocol endpoint at /sparql (query) and /update.

GET `?query=`, POST `application/x-www-form-urlencoded` and POST `application/sparql-query`;
`default-graph-uri` and `named-graph-uri` set the dataset; exactly one query per request.
Without a query, GET answers with the SPARQL Service Description (or, for a browser, a form).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from kg.errors import QueryError, UnsupportedMediaType
from kg.evaluation import QueryRequest
from kg.sparql import GRAPH, Dataset
from server.answers import respond
from server.bodies import FORM, QUERY, UPDATE, utf8_text
from server.description import service_description
from server.negotiation import choose_for_query, media_types, prefers_html
from server.queries import get_catalog
from server.store import get_prefixes

__all__ = ["blueprint"]

blueprint = Blueprint("sparql", __name__)


@blueprint.route("/sparql", methods=["GET", "POST"])
def query() -> Response:
    """Answer one SPARQL query, or describe the service when there is none."""
    # The URL's parameters and, for a form post, the body's (Werkzeug combines them).
    parameters = request.values
    text = _query_text(parameters)
    base_url = request.base_url
    if text is None:
        if prefers_html(request.accept_mimetypes, media_types(GRAPH)):
            return Response(_editor_page(base_url), mimetype="text/html")
        return service_description(base_url)
    settings = current_app.config["KG_SETTINGS"]
    formats = choose_for_query(request.headers.get("Accept"), parameters.get("format"))
    query_request = QueryRequest(
        query=text,
        dataset=Dataset(tuple(parameters.getlist("default-graph-uri")),
                        tuple(parameters.getlist("named-graph-uri"))),
        prefixes=get_prefixes(),
        base_iri=base_url,
        formats=dict(formats),
        row_cap=settings.row_cap,
    )
    return respond(query_request)


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



def _editor_page(endpoint: str) -> str:
    """The query editor for browsers, with the saved queries as examples: those that run as
    written open in the editor; those with values to give open their form."""
    examples = []
    for query in get_catalog().queries.values():
        if query.needs_internet:
            continue
        example = {"name": query.name, "summary": query.summary, "text": query.text}
        if query.parameters:
            # The editor cannot bind values (pasting them in is what we never do).
            example["page"] = url_for("queries.saved_query", address=query.name)
        examples.append(example)
    return render_template("sparql.html", endpoint=endpoint, examples=examples)

