"""Saved queries over HTTP: the list, each query's form and answers, permalinks, citations.

`/queries` lists them (HTML, or JSON at `/queries.json` and by Accept). `/queries/<name>` is a
query's page for browsers: a form built from its parameters, the results table, downloads,
a permalink and how to cite it. The same address answers machines with the results, chosen by
Accept or `format=`; a suffix (`.json`, `.csv`, `.tsv`, `.xml`, `.ttl`, ...) chooses too, and
`.rq` gives the query itself. A permalink pins the dataset version: when the server serves
another one, the permalink answers 410 rather than a different answer under the same name.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from kg.errors import NotFound, ParameterError, QueryError, VersionGone
from kg.evaluation import QueryRequest
from kg.namespaces import Namespaces, short_iri
from kg.saved_queries import Catalog, SavedQuery, load_catalog
from kg.settings import Settings
from kg.sparql import BOOLEAN, FORMATS, GRAPH, SOLUTIONS, Dataset, formats_for
from kg.store import Manifest
from server.answers import answer, etag, respond
from server.cache import StoredAnswer
from server.negotiation import choose_for_query, media_types, prefers_html
from server.store import get_prefixes, get_store

__all__ = ["blueprint", "get_catalog"]

blueprint = Blueprint("queries", __name__)

#: The query-string key that pins the version of the saved query itself.
QUERY_VERSION = "query-version"
#: Query-string keys of a saved query's address that are not its parameters.
OWN_KEYS = ("format", "version", QUERY_VERSION)
#: The media type of a SPARQL query (the `.rq` suffix).
SPARQL_QUERY = "application/sparql-query"


def get_catalog() -> Catalog:
    """The saved queries, read once per process (a new set of queries needs a restart)."""
    catalog: Catalog | None = current_app.extensions.get("kg_catalog")
    if catalog is None:
        settings: Settings = current_app.config["KG_SETTINGS"]
        catalog = load_catalog(settings.queries_dir, Namespaces(settings.base_iri))
        current_app.extensions["kg_catalog"] = catalog
    return catalog


@blueprint.route("/queries.json")
def catalog_json() -> Response:
    """Every saved query, in full, for machines."""
    response = jsonify({"queries": [_describe(q) for q in get_catalog().queries.values()],
                        "problems": [str(p) for p in get_catalog().problems]})
    response.headers["Vary"] = "Accept"
    return response


@blueprint.route("/queries")
def catalog() -> Response:
    """Every saved query, grouped by tag for people (JSON for a client that prefers it)."""
    if not prefers_html(request.accept_mimetypes, ["application/json"]):
        return catalog_json()
    queries = list(get_catalog().queries.values())
    by_tag: dict[str, list[SavedQuery]] = {}
    for query in queries:
        for tag in query.tags or ("other",):
            by_tag.setdefault(tag, []).append(query)
    page = render_template("queries.html", by_tag=dict(sorted(by_tag.items())),
                           count=len(queries))
    return Response(page, mimetype="text/html", headers={"Vary": "Accept"})


@blueprint.route("/queries/<path:address>")
def saved_query(address: str) -> Response:
    """A saved query's page, its answer, or its text."""
    name, dot, suffix = address.partition(".")
    query = get_catalog().queries.get(name)
    if query is None or "/" in address or (dot and not suffix):
        raise NotFound(f"there is no saved query {address!r}; /queries lists them")
    if suffix == "rq":
        return Response(query.text, mimetype=SPARQL_QUERY)
    format_param = _format_for_suffix(suffix) if suffix else request.args.get("format") or None
    values = _values(request.args)
    _check_pins(query, request.args)
    if format_param is None and prefers_html(request.accept_mimetypes, media_types(query.kind)):
        return _page(query, values)
    query_request = _request(query, values, format_param, request.headers.get("Accept"))
    response = respond(query_request)
    # Where this very answer can be found again (RFC 8574), for programs that cite it.
    response.headers["Link"] = f'<{_permalink(query, values)}>; rel="cite-as"'
    if suffix:
        response.headers["Content-Disposition"] = (
            f'inline; filename="{query.name}.{suffix}"')
    return response


def _values(arguments: MultiDict[str, str]) -> dict[str, str]:
    """The parameter values in the query string; ParameterError for one given twice."""
    values: dict[str, str] = {}
    for key, given in arguments.lists():
        if len(given) > 1:
            raise ParameterError(f"parameter {key!r} is given {len(given)} times; give it once")
        if key not in OWN_KEYS:
            values[key] = given[0]
    return values


def _format_for_suffix(suffix: str) -> str:
    for fmt in FORMATS:
        if suffix in (fmt.name, fmt.suffix):
            return fmt.name
    raise NotFound(f"no format has the suffix .{suffix}; use .rq or one of "
                   + ", ".join("." + f.suffix for f in FORMATS))


def _check_pins(query: SavedQuery, arguments: MultiDict[str, str]) -> None:
    """VersionGone if the link pins a dataset or query version other than the one served."""
    served = get_store().manifest.dataset_version
    pinned = arguments.get("version")
    if pinned and pinned != served:
        raise VersionGone(
            f"this link pins dataset version {pinned}, but the server now serves version "
            f"{served}, whose answer may differ; drop `version` from the link to run the "
            "query on the current data, or load the release of that version to reproduce it")
    pinned = arguments.get(QUERY_VERSION)
    if pinned and pinned != query.version:
        raise VersionGone(
            f"this link pins version {pinned} of the saved query {query.name}, but it has "
            f"changed since (now version {query.version}), so its answer may differ; drop "
            f"`{QUERY_VERSION}` from the link to run the query as it is now")


def _address(query: SavedQuery, pairs: list[tuple[str, str]], suffix: str = "",
             external: bool = False) -> str:
    """The address of a query's page or answer with `pairs` in its query string (built here,
    not by url_for, whose own arguments a parameter's name could shadow)."""
    address = url_for(".saved_query", address=query.name + suffix, _external=external)
    return f"{address}?{urlencode(pairs)}" if pairs else address


def _pinned(query: SavedQuery, values: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every parameter's value (defaults included: a later change of a default must not
    change the answer) and the versions of the data and of the query."""
    filled = [(p.name, values.get(p.name) or p.default or "") for p in query.parameters]
    return [*((k, v) for k, v in filled if v),
            ("version", get_store().manifest.dataset_version), (QUERY_VERSION, query.version)]


def _permalink(query: SavedQuery, values: Mapping[str, str]) -> str:
    return _address(query, _pinned(query, values), external=True)


def _request(query: SavedQuery, values: Mapping[str, str], format_param: str | None,
             accept: str | None) -> QueryRequest:
    settings: Settings = current_app.config["KG_SETTINGS"]
    prefixes = get_prefixes()
    return QueryRequest(
        query=query.text, dataset=Dataset(), prefixes=prefixes,
        base_iri=url_for("sparql.query", _external=True),
        formats=dict(choose_for_query(accept, format_param)), row_cap=settings.row_cap,
        substitutions=query.substitutions(values, prefixes))


def _page(query: SavedQuery, values: Mapping[str, str]) -> Response:
    """The HTML page: the form, and the results once every required value is there."""
    error = None
    results = None
    missing = [p.name for p in query.parameters
               if p.required and not values.get(p.name) and p.default is None]
    status = 200
    if not missing:
        try:
            results = _results(query, values)
        except QueryError as bad:  # a bad value, or a SERVICE this server may not reach
            # Shown beside the form, which keeps what was typed, rather than as a bare error.
            error, status = bad.message, bad.status
    manifest = get_store().manifest
    filled = {p.name: values.get(p.name) or p.default or "" for p in query.parameters}
    permalink = _permalink(query, values)
    page = render_template(
        "saved_query.html", query=query, values=filled, error=error, missing=missing,
        results=results, permalink=permalink, version=manifest.dataset_version,
        downloads=_downloads(query, values, results["kind"] if results else query.kind),
        citation=_citation(query, {k: v for k, v in filled.items() if v}, permalink,
                           manifest))
    return Response(page, status=status, mimetype="text/html", headers={"Vary": "Accept"})


def _results(query: SavedQuery, values: Mapping[str, str]) -> dict[str, Any]:
    """The answer as rows for the table: read back from its SPARQL JSON (or N-Triples)
    serialization by pyoxigraph, so the page shows exactly what the downloads hold."""
    query_request = _request(query, values, None, "application/sparql-results+json, "
                                                  "application/n-triples;q=0.9")
    found = answer(query_request, etag(query_request))
    body = found.file.read() if isinstance(found, StoredAnswer) else found.body
    if isinstance(found, StoredAnswer):
        found.file.close()
    prefixes = get_prefixes()
    truncated = current_app.config["KG_SETTINGS"].row_cap if found.truncated else None
    if found.media_type == "application/n-triples":
        triples = ox.parse(body, ox.RdfFormat.N_TRIPLES)
        return {"kind": GRAPH, "variables": ["subject", "predicate", "object"],
                "rows": [[_cell(t.subject, prefixes), _cell(t.predicate, prefixes),
                          _cell(t.object, prefixes)] for t in triples],
                "truncated": truncated}
    parsed = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return {"kind": BOOLEAN, "boolean": bool(parsed), "truncated": None}
    variables = [v.value for v in parsed.variables]
    rows = [[_cell(solution[v], prefixes) for v in variables] for solution in parsed]
    return {"kind": SOLUTIONS, "variables": variables, "rows": rows, "truncated": truncated}


def _cell(term: Any, prefixes: Mapping[str, str]) -> dict[str, str] | None:
    """What a table cell shows of a term: its text, a link for an IRI, a note for a literal's
    language or datatype."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        short = short_iri(term.value, prefixes)
        # Only web addresses become links: an IRI may have any scheme (javascript: too).
        href = term.value if term.value.startswith(("http://", "https://")) else ""
        return {"text": short, "href": href, "note": ""}
    if isinstance(term, ox.Literal):
        note = term.language or ""
        if not note and term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            note = term.datatype.value.rsplit("#", 1)[-1]
        return {"text": term.value, "href": "", "note": note}
    return {"text": str(term), "href": "", "note": ""}


def _downloads(query: SavedQuery, values: Mapping[str, str], kind: str) -> list[dict[str, str]]:
    """A link to this answer in each format of its kind, pinned as the permalink is."""
    pairs = _pinned(query, values)
    return [{"label": fmt.name.upper() if len(fmt.name) <= 4 else fmt.name,
             "media_type": fmt.media_type,
             "href": _address(query, pairs, suffix="." + fmt.suffix)}
            for fmt in formats_for(kind)]


def _citation(query: SavedQuery, values: Mapping[str, str], permalink: str,
              manifest: Manifest) -> dict[str, str]:
    """How to cite this run, as text and as BibTeX."""
    year = manifest.created[:4]
    with_values = "; ".join(f"{k} = {v}" for k, v in values.items())
    version = manifest.dataset_version
    today = datetime.date.today().isoformat()
    title = f"{query.summary} (saved query {query.name}"
    title += f", {with_values})" if with_values else ")"
    text = (f"crisiskg contributors ({year}). {title}. crisiskg knowledge graph, dataset "
            f"version {version}. {permalink} (accessed {today}).")
    key = f"crisiskg-{query.name}-{version[:8]}"
    bibtex = "\n".join([
        f"@misc{{{key},",
        "  author = {{crisiskg contributors}},",
        f"  title = {{{_bibtex(title)}}},",
        f"  year = {{{year}}},",
        f"  howpublished = {{\\url{{{permalink}}}}},",
        f"  note = {{crisiskg knowledge graph, dataset version {version}; "
        f"accessed {today}}},",
        "}"])
    return {"text": text, "bibtex": bibtex}


def _bibtex(text: str) -> str:
    """Text safe inside a BibTeX field: LaTeX's special characters escaped."""
    special = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&",
               "$": r"\$", "#": r"\#", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
    return "".join(special.get(c, c) for c in text)


def _describe(query: SavedQuery) -> dict[str, Any]:
    """A saved query for machines: what it asks, its parameters, where to run it."""
    return {
        "name": query.name, "summary": query.summary, "description": query.description,
        "tags": list(query.tags), "form": query.form, "needs_internet": query.needs_internet,
        "grlc_compatible": query.grlc_compatible,
        "parameters": [{"name": p.name, "type": p.type, "required": p.required,
                        "default": p.default, "choices": list(p.choices),
                        "expects": p.expects} for p in query.parameters],
        "page": url_for(".saved_query", address=query.name, _external=True),
        "query": url_for(".saved_query", address=f"{query.name}.rq", _external=True),
        "results": {fmt.name: url_for(".saved_query", address=f"{query.name}.{fmt.suffix}",
                                      _external=True) for fmt in formats_for(query.kind)},
    }

