"""The dataset's VoID/DCAT description: `/.well-known/void` (RFC 8615, as VoID specifies) and
`/dataset`, an HTML page for browsers and Turtle, N-Triples, JSON-LD or RDF/XML for RDF clients.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for

from kg.errors import NotFound
from kg.export import EXPORT_FORMATS
from kg.namespaces import Namespaces, short_iri
from kg.settings import Settings
from kg.void import VOID_PREFIXES, access_facts, dataset_facts, dataset_iri, in_reading_order
from server.exports import DUMPS
from server.resources import RDF_SUFFIXES, negotiate, rdf_response
from server.store import get_prefixes, per_build

__all__ = ["blueprint"]

blueprint = Blueprint("void", __name__)


def _description() -> list[ox.Triple]:
    settings: Settings = current_app.config["KG_SETTINGS"]
    ns = Namespaces(settings.base_iri)
    root = request.host_url.rstrip("/")
    dumps = {}
    for file_name, fmt in DUMPS.items():
        media_type = EXPORT_FORMATS[fmt].rdf_format.media_type
        dumps[root + url_for("exports.download", file_name=file_name)] = (media_type, False)
        dumps[root + url_for("exports.download", file_name=file_name + ".gz")] = (media_type,
                                                                                  True)
    # Counted once per build (the partitions read the whole store); the addresses, which
    # depend on the host asked, each time.
    facts = per_build("void", lambda store: dataset_facts(store, ns))
    return in_reading_order(facts + access_facts(ns, root + url_for("sparql.query"), dumps,
                                                 root + "/"))


@blueprint.route("/.well-known/void")
@blueprint.route("/dataset")
@blueprint.route("/dataset.<suffix>")
def dataset(suffix: str | None = None) -> Response:
    """The description, as a page or as RDF."""
    if suffix is not None and suffix not in RDF_SUFFIXES:
        raise NotFound(f"no description as .{suffix}; ask for "
                       + ", ".join(f"/dataset.{s}" for s in sorted(RDF_SUFFIXES)))
    fmt = negotiate(suffix)
    triples = _description()
    if fmt is None:
        settings: Settings = current_app.config["KG_SETTINGS"]
        me = ox.NamedNode(dataset_iri(Namespaces(settings.base_iri)))
        prefixes = {**get_prefixes(), **VOID_PREFIXES}
        facts = [(short_iri(t.predicate.value, prefixes), t.object.value,
                  isinstance(t.object, ox.NamedNode))
                 for t in triples if t.subject == me
                 and isinstance(t.object, ox.NamedNode | ox.Literal)]
        parts = {name: sum(1 for t in triples if t.subject == me
                           and t.predicate.value.endswith(name))
                 for name in ("classPartition", "propertyPartition")}
        return Response(render_template("dataset.html", facts=facts, parts=parts),
                        mimetype="text/html")
    return rdf_response(triples, fmt, url_for("void.dataset", suffix=fmt.suffix),
                        {**get_prefixes(), **VOID_PREFIXES})
