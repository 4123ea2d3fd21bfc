"""The ontology as HTML documentation: pyLODE's page, with an anchor for every term.

Term IRIs are hash IRIs (`ontology#Person`), so a term dereferences to this page at the anchor
of its local name. pyLODE names an anchor differently when two terms differ only in case
(`DatePrecision` and `datePrecision`), and leaves out named individuals (participant roles,
date precisions) and some properties; those get their anchor here, in a section of their own.
"""

from __future__ import annotations

import html
import re

import rdflib

from kg.namespaces import Namespaces
from kg.vocabulary import ontology_text

__all__ = ["ontology_html"]

_ID = re.compile(r'\bid="([^"]+)"')
_SKOS = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")


def ontology_html(ns: Namespaces) -> str:
    """pyLODE's documentation of the ontology, with every term's local name as an anchor."""
    from pylode import OntPub  # slow to import, and only this page needs it

    graph = rdflib.Graph().parse(data=ontology_text(ns), format="turtle")
    page: str = OntPub(ontology=graph).make_html()
    ids = set(_ID.findall(page))
    by_lower = {i.lower(): i for i in ids}
    extra = []
    for term in sorted({s for s in graph.subjects(rdflib.RDF.type, None)
                        if isinstance(s, rdflib.URIRef) and str(s).startswith(ns.term_prefix)}):
        name = str(term)[len(ns.term_prefix):]
        if name in ids:
            continue
        alias = by_lower.get(name.lower())
        if alias is not None:
            at = page.rfind("<", 0, page.index(f'id="{alias}"'))
            page = page[:at] + f'<a id="{html.escape(name)}"></a>' + page[at:]
            continue
        kinds = ", ".join(sorted(graph.qname(str(k)) for k in graph.objects(term, rdflib.RDF.type)))
        label = graph.value(term, rdflib.RDFS.label) or name
        definition = graph.value(term, _SKOS.definition) or ""
        extra.append(f'<tr id="{html.escape(name)}"><td><code>{html.escape(name)}</code></td>'
                     f"<td>{html.escape(str(label))}</td><td>{html.escape(kinds)}</td>"
                     f"<td>{html.escape(str(definition))}</td></tr>")
    if extra:
        section = ('<div class="section" id="other-terms"><h2>Other terms</h2>'
                   "<p>Named individuals and properties the sections above do not list.</p>"
                   "<table><tr><th>Term</th><th>Label</th><th>Type</th><th>Definition</th></tr>"
                   + "".join(extra) + "</table></div>")
        end = page.rindex("</body>")
        page = page[:end] + section + page[end:]
    return page
