"""The landing page: what the dataset is, what it holds, how to query and cite it."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from server.queries import get_catalog
from server.store import get_build, get_prefixes, get_store

__all__ = ["blueprint"]

blueprint = Blueprint("home", __name__)

_DOCUMENTS = """
SELECT ?document ?title ?author WHERE {
  ?document a ckg:SourceDocument ; ckg:title ?title .
  OPTIONAL { ?document ckg:author/rdfs:label ?author }
} ORDER BY ?title
"""


@blueprint.route("/")
def landing() -> Response:
    """The dataset at a glance, with the ways in."""
    build = get_build()
    documents = [{"iri": row["document"].value, "title": row["title"].value,
                  "author": row["author"].value if row["author"] else ""}
                 for row in get_store().query(_DOCUMENTS, prefixes=get_prefixes())]
    counts = build.manifest.counts
    classes = sorted(counts.get("entities_by_class", {}).items(), key=lambda kv: -kv[1])
    page = render_template(
        "landing.html", manifest=build.manifest, documents=documents, classes=classes,
        entities=sum(n for _, n in classes), queries=len(get_catalog().queries))
    return Response(page, mimetype="text/html")
