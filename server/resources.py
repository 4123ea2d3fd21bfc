"""Linked Data: every IRI under the base IRI dereferences on whatever host serves crisiskg.

`/resource/<id>` (and `/vocab/...`) answers browsers with a page, the resource's facts each with
the quote that supports it, and RDF clients with the triples about it in Turtle, N-Triples,
JSON-LD or RDF/XML, by Accept or by suffix (`.ttl`, `.nt`, `.jsonld`, `.rdf`). A document's page
shows its text with the annotated mentions linked. `/ontology` serves the ontology as pyLODE
documentation or as Turtle / RDF/XML, `/shapes` the SHACL shapes, `/graph/<name>` a named graph.
"""

from __future__ import annotations

import functools
import hashlib

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for

from kg.describe import describe, description_triples, document_segments, exists
from kg.errors import NotFound
from kg.namespaces import Namespaces
from kg.ontology_docs import ontology_html
from kg.settings import Settings
from kg.sparql import GRAPH, ResultFormat, formats_for
from kg.store import GraphStore
from kg.vocabulary import ontology_text, shapes_text
from server.negotiation import choose, media_types, prefers_html
from server.store import get_prefixes, get_store, per_build

__all__ = ["RDF_SUFFIXES", "blueprint", "negotiate", "rdf_response"]

blueprint = Blueprint("resources", __name__)

#: The RDF formats a description is served in, by file suffix (pyoxigraph's extensions).
RDF_SUFFIXES: dict[str, ResultFormat] = {f.suffix: f for f in formats_for(GRAPH)}
_HTML = "text/html"


def _namespaces() -> Namespaces:
    settings: Settings = current_app.config["KG_SETTINGS"]
    return Namespaces(settings.base_iri)


def negotiate(suffix: str | None) -> ResultFormat | None:
    """The RDF format asked for (by suffix, else by Accept), or None for the HTML page."""
    if suffix is not None:
        return RDF_SUFFIXES[suffix]
    accept = request.accept_mimetypes
    if accept and prefers_html(accept, media_types(GRAPH)):
        return None
    return choose(GRAPH, accept)  # the endpoint's own negotiation: Turtle for */* or none


def _split_suffix(path: str) -> tuple[str, str | None]:
    stem, dot, suffix = path.rpartition(".")
    return (stem, suffix) if dot and suffix in RDF_SUFFIXES else (path, None)


def rdf_response(triples: list[ox.Triple], fmt: ResultFormat, location: str,
                 prefixes: dict[str, str] | None = None) -> Response:
    """Triples in the negotiated format (Turtle with prefixes), varying by Accept."""
    assert fmt.rdf_format is not None
    body = ox.serialize(triples, format=fmt.rdf_format,
                        prefixes=(prefixes or get_prefixes()) if fmt.name == "turtle"
                        else None) or b""
    response = Response(body, mimetype=fmt.media_type)
    response.headers["Content-Location"] = location
    response.vary.add("Accept")
    return response


def _read_texts(store: GraphStore) -> dict[str, str]:
    """Document texts by document IRI, read from the corpus when their SHA-256 matches the
    graph's (a corpus edited since the build gives the recorded context instead)."""
    settings: Settings = current_app.config["KG_SETTINGS"]
    texts = {}
    for row in store.query("SELECT ?doc ?file ?sha WHERE { ?doc a ckg:SourceDocument ; "
                           "dcterms:identifier ?file ; ckg:sha256 ?sha }",
                           prefixes=get_prefixes()):
        path = settings.corpus_dir / "documents" / row["file"].value
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if hashlib.sha256(text.encode("utf-8")).hexdigest() == row["sha"].value:
            texts[row["doc"].value] = text
    return texts


def _page(iri: str, rdf_path: str) -> Response:
    store, ns = get_store(), _namespaces()
    texts = per_build("texts", _read_texts)
    description = describe(store, iri, get_prefixes(), texts, ns.graph("inferred"))
    segments = None
    focus = None
    if iri in texts:
        quote = request.args.get("quote", "")
        start, _, end = quote.partition("-")
        if start.isdigit() and end.isdigit():
            focus = (int(start), int(end))
        segments = document_segments(store, iri, texts[iri], get_prefixes(), focus)
    alternates = {f"{rdf_path}.{suffix}": fmt.media_type for suffix, fmt in RDF_SUFFIXES.items()}
    response = Response(render_template(
        "resource.html", d=description, segments=segments, focus=focus, alternates=alternates,
        local=lambda value: local_address(value, ns)), mimetype=_HTML)
    response.vary.add("Accept")
    response.headers["Link"] = ", ".join(
        f'<{address}>; rel="alternate"; type="{media_type}"'
        for address, media_type in alternates.items())
    return response


def local_address(iri: str, ns: Namespaces) -> str | None:
    """Where this server answers for an IRI under the base, or None for an outside IRI."""
    if not iri.startswith(ns.base):
        return None
    path = iri[len(ns.base):]
    root = url_for("home.landing")
    return root + path


def _serve(iri: str, suffix: str | None, path: str) -> Response:
    store = get_store()
    if not exists(store, iri):
        raise NotFound(f"{iri} is not in the graph; the saved query entity-search finds "
                       "entities by name")
    fmt = negotiate(suffix)
    if fmt is None:
        return _page(iri, path)
    return rdf_response(description_triples(store, iri), fmt, f"{path}.{fmt.suffix}")


@blueprint.route("/resource/<path:identifier>")
def resource(identifier: str) -> Response:
    """An entity, event, claim, document or any node the build minted."""
    ns = _namespaces()
    iri = ns.resource(identifier)
    stem, suffix = _split_suffix(identifier)
    if suffix is not None and not exists(get_store(), iri):
        iri, identifier = ns.resource(stem), stem
    else:
        suffix = None
    return _serve(iri, suffix, url_for("resources.resource", identifier=identifier))


@blueprint.route("/vocab/<path:identifier>")
def vocabulary(identifier: str) -> Response:
    """A concept of the event-type vocabularies (ACLED, CAMEO)."""
    ns = _namespaces()
    stem, suffix = _split_suffix(identifier)
    iri = ns.base + "vocab/" + stem
    return _serve(iri, suffix, url_for("resources.vocabulary", identifier=stem))


@blueprint.route("/ontology")
@blueprint.route("/ontology.<suffix>")
def ontology(suffix: str | None = None) -> Response:
    """The ontology: pyLODE documentation for browsers, Turtle or RDF/XML for RDF clients.

    Terms are hash IRIs (`ontology#Person`), so each dereferences here, to its anchor."""
    if suffix == "owl":
        suffix = "rdf"  # the usual suffix of an OWL ontology in RDF/XML
    if suffix is not None and suffix not in (*RDF_SUFFIXES, "html"):
        raise NotFound(f"/ontology.{suffix}: the ontology is served as .html, .owl, "
                       + ", ".join(f".{s}" for s in RDF_SUFFIXES))
    ns = _namespaces()
    fmt = None if suffix == "html" else negotiate(suffix)
    if fmt is None:
        response = Response(_ontology_html(ns.base), mimetype=_HTML)
        response.vary.add("Accept")
        return response
    triples = list(ox.parse(ontology_text(ns), ox.RdfFormat.TURTLE))
    return rdf_response(triples, fmt, url_for("resources.ontology", suffix=fmt.suffix))


@functools.lru_cache(maxsize=2)
def _ontology_html(base: str) -> str:
    return ontology_html(Namespaces(base))


@blueprint.route("/shapes")
@blueprint.route("/shapes.ttl")
def shapes() -> Response:
    """The SHACL shapes every build is checked against, as Turtle."""
    response = Response(shapes_text(_namespaces()), mimetype="text/turtle")
    return response


@blueprint.route("/graph/<path:name>")
def graph(name: str) -> Response:
    """A named graph's triples (a document's graph, `links`, `inferred`, `ontology`)."""
    ns = _namespaces()
    stem, suffix = _split_suffix(name)
    iri = ns.graph(stem)
    store = get_store()
    if not store.contains_named_graph(iri):
        raise NotFound(f"there is no graph {iri}; the graphs are listed at /sparql")
    fmt = negotiate(suffix)
    path = url_for("resources.graph", name=stem)
    if fmt is None:
        document = ns.resource(stem)
        response = Response(render_template(
            "graph.html", iri=iri, size=sum(1 for _ in store.quads(iri)),
            alternates={s: f"{path}.{s}" for s in RDF_SUFFIXES},
            document=local_address(document, ns) if exists(store, document) else None),
            mimetype=_HTML)
        response.vary.add("Accept")
        return response
    return rdf_response(store.triples(iri), fmt, f"{path}.{fmt.suffix}")
