"""What the graph says about one IRI, for its Linked Data page: facts with their quotes.

`describe` gathers, from the store's union graph, a resource's labels and types, every statement
in and out (provenance nodes left out: they appear as the quotes that back each fact), the
events it takes part in by date, its links out, and each quote set in its sentence when the
document's text is at hand. `document_view` cuts a document's text into segments, each with the
entities annotated on it, so a page can show the text with its mentions linked.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.links import KNOWLEDGE_BASES, knowledge_base_of
from kg.namespaces import EXTERNAL_PREFIXES, short_iri
from kg.store import GraphStore

__all__ = ["Description", "Fact", "Quote", "Segment", "Term", "describe", "description_triples",
           "document_segments", "exists"]

_RDF = EXTERNAL_PREFIXES["rdf"]
_OA = EXTERNAL_PREFIXES["oa"]
_PROVENANCE = {_RDF + "Statement", _OA + "Annotation", _OA + "SpecificResource",
               _OA + "TextQuoteSelector", _OA + "TextPositionSelector"}
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*\s+|\n")


@dataclass(frozen=True)
class Term:
    """An IRI or a literal, with what to show for it."""

    value: str
    label: str
    is_iri: bool = True
    datatype: str = ""
    language: str = ""


@dataclass(frozen=True)
class Quote:
    """A quote of a document, set in its sentence: `before` + `exact` + `after`."""

    document: str
    document_label: str
    start: int
    end: int
    exact: str
    before: str
    after: str


@dataclass
class Fact:
    """A statement in or out of the resource, with the quotes that support it."""

    predicate: Term
    other: Term  # the object of an outgoing statement, the subject of an incoming one
    quotes: list[Quote] = field(default_factory=list)
    inferred: bool = False
    claimed_by: Term | None = None  # a statement the document only attributes to someone


@dataclass
class Description:
    """Everything a resource's page shows."""

    iri: str
    label: str
    types: list[Term] = field(default_factory=list)
    definition: str = ""
    outgoing: list[Fact] = field(default_factory=list)
    incoming: list[Fact] = field(default_factory=list)
    events: list[tuple[Term, str]] = field(default_factory=list)  # (event, earliest date)
    mentions: list[Quote] = field(default_factory=list)
    links: list[tuple[str, Term, str]] = field(default_factory=list)  # (kb, target, source)
    coordinates: tuple[str, str] | None = None

    @property
    def quote_count(self) -> int:
        """How many quotes the page shows."""
        return len(self.mentions) + sum(len(f.quotes) for f in (*self.outgoing, *self.incoming))


@dataclass(frozen=True)
class Segment:
    """A stretch of a document's text and the entities annotated on all of it."""

    text: str
    start: int
    entities: tuple[Term, ...] = ()
    focus: bool = False


def exists(store: GraphStore, iri: str) -> bool:
    """Whether the graph mentions the IRI as a subject or an object."""
    return bool(store.query(_about("ASK { { ?iri ?p ?o } UNION { ?s ?p ?iri } }", iri)))


def _about(query: str, iri: str) -> str:
    """The query with `?iri` replaced by the IRI (checked by pyoxigraph, so it cannot break
    out of its brackets). pyoxigraph substitutes only variables a SELECT projects."""
    return query.replace("?iri", str(ox.NamedNode(iri)))


def description_triples(store: GraphStore, iri: str) -> list[ox.Triple]:
    """The triples with the IRI as subject or object (over the union of the graphs)."""
    result = store.query(_about("CONSTRUCT { ?iri ?p ?o . ?s ?q ?iri } WHERE { { ?iri ?p ?o } "
                                "UNION { ?s ?q ?iri } }", iri))
    return sorted(result, key=str)


# --- one resource --------------------------------------------------------------------------------

_LABEL = """
SELECT ?x (SAMPLE(?l) AS ?label) WHERE {
  VALUES ?x { %s }
  ?x skos:prefLabel|rdfs:label ?l FILTER(LANG(?l) IN ("en", ""))
} GROUP BY ?x
"""
_OUT = """
SELECT ?p ?o ?g WHERE { GRAPH ?g { ?iri ?p ?o }
  FILTER NOT EXISTS { ?o a ?kind FILTER(STR(?kind) IN (%s)) } }
"""
_IN = """
SELECT ?s ?p ?g WHERE { GRAPH ?g { ?s ?p ?iri }
  FILTER NOT EXISTS { ?s a ?kind FILTER(STR(?kind) IN (%s)) } }
"""
_EVIDENCE = """
SELECT ?s ?p ?o ?by ?doc ?start ?end ?exact ?prefix ?suffix WHERE {
  { ?st rdf:subject ?iri ; rdf:predicate ?p ; rdf:object ?o . BIND(?iri AS ?s) }
  UNION
  { ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?iri . BIND(?iri AS ?o) }
  ?st ckg:evidence/oa:hasTarget ?target .
  ?target oa:hasSource ?doc ; oa:hasSelector ?position, ?selector .
  ?position oa:start ?start ; oa:end ?end .
  ?selector oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
  OPTIONAL { ?claim ckg:claims ?st ; ckg:claimedBy ?by }
}
"""
_MENTIONS = """
SELECT ?doc ?start ?end ?exact ?prefix ?suffix WHERE {
  ?iri ckg:evidence/oa:hasTarget ?target .
  ?target oa:hasSource ?doc ; oa:hasSelector ?position, ?selector .
  ?position oa:start ?start ; oa:end ?end .
  ?selector oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
} ORDER BY ?doc ?start
"""
_EVENTS = """
SELECT DISTINCT ?event (MIN(?date) AS ?earliest) WHERE {
  ?event ?p ?iri . ?event a/rdfs:subClassOf* ckg:Event .
  OPTIONAL { ?event ckg:earliestDate ?date }
} GROUP BY ?event
"""
_LINKS = """
SELECT ?relation ?target ?source WHERE {
  VALUES ?relation { owl:sameAs skos:closeMatch }
  ?iri ?relation ?target .
  OPTIONAL { ?st rdf:subject ?iri ; rdf:predicate ?relation ; rdf:object ?target ;
                 ckg:verificationSource ?source }
} ORDER BY ?target
"""


def describe(store: GraphStore, iri: str, prefixes: Mapping[str, str],
             texts: Mapping[str, str], inferred_graph: str) -> Description:
    """What the graph says about `iri`; `texts` maps document IRIs to their text, for sentences."""
    pre = dict(prefixes)
    kinds = ", ".join(f'"{k}"' for k in sorted(_PROVENANCE))
    out = list(store.query(_about(_OUT % kinds, iri), prefixes=pre))
    into = list(store.query(_about(_IN % kinds, iri), prefixes=pre))
    iris = {iri} | {r["p"].value for r in (*out, *into)}
    iris |= {r["o"].value for r in out if isinstance(r["o"], ox.NamedNode)}
    iris |= {r["s"].value for r in into if isinstance(r["s"], ox.NamedNode)}
    events = list(store.query(_about(_EVENTS, iri), prefixes=pre))
    iris |= {r["event"].value for r in events}
    backed = list(store.query(_about(_EVIDENCE, iri), prefixes=pre))
    iris |= {r[name].value for r in backed for name in ("s", "p", "o", "by")
             if isinstance(r[name], ox.NamedNode)}
    labels = _labels(store, iris, pre)
    doc_labels: dict[str, str] = {}

    def term(value: ox.NamedNode | ox.Literal | ox.BlankNode) -> Term:
        if isinstance(value, ox.Literal):
            return Term(value.value, value.value, False, short_iri(value.datatype.value, pre),
                        value.language or "")
        return Term(value.value, labels.get(value.value) or short_iri(value.value, pre))

    def quote(row: dict[str, ox.Literal | ox.NamedNode]) -> Quote:
        document = row["doc"].value
        if document not in doc_labels:
            doc_labels[document] = _labels(store, {document}, pre).get(document, document)
        start, end = int(row["start"].value), int(row["end"].value)
        before, after = _sentence(texts.get(document), start, end,
                                  row["prefix"].value, row["suffix"].value)
        return Quote(document, doc_labels[document], start, end, row["exact"].value, before,
                     after)

    description = Description(iri, labels.get(iri) or short_iri(iri, pre))
    evidence: dict[tuple[str, str, str], list[Quote]] = defaultdict(list)
    claimed: dict[tuple[str, str, str], tuple[Fact, bool]] = {}
    for row in backed:
        key = (row["s"].value, row["p"].value, str(row["o"]))
        if row["by"] is None:
            evidence[key].append(quote(row))
            continue
        # Claimed statements are shown as claims, with who claims them, never as facts.
        outgoing = row["s"].value == iri
        claim_key = (*key[:2], f"{key[2]} {row['by'].value}")
        fact = claimed.setdefault(claim_key, (Fact(
            term(row["p"]), term(row["o"] if outgoing else row["s"]),
            claimed_by=term(row["by"])), outgoing))[0]
        fact.quotes = _unique([*fact.quotes, quote(row)])
    seen: set[tuple[str, str, str]] = set()
    for row in out:
        key = (iri, row["p"].value, str(row["o"]))
        if row["p"].value == _RDF + "type" and isinstance(row["o"], ox.NamedNode):
            if key not in seen:
                description.types.append(term(row["o"]))
        elif key not in seen:
            description.outgoing.append(Fact(term(row["p"]), term(row["o"]),
                                             _unique(evidence.get(key, [])),
                                             row["g"].value == inferred_graph))
        seen.add(key)
    for row in into:
        key = (row["s"].value, row["p"].value, str(ox.NamedNode(iri)))
        if key not in seen:
            description.incoming.append(Fact(term(row["p"]), term(row["s"]),
                                             _unique(evidence.get(key, [])),
                                             row["g"].value == inferred_graph))
        seen.add(key)
    for fact, outgoing in claimed.values():
        (description.outgoing if outgoing else description.incoming).append(fact)
    description.outgoing.sort(key=lambda f: (f.predicate.label, f.other.label))
    description.incoming.sort(key=lambda f: (f.predicate.label, f.other.label))
    description.types.sort(key=lambda t: t.label)
    dated = [(term(r["event"]), r["earliest"].value if r["earliest"] else "")
             for r in events if r["event"].value != iri]
    # In date order; events no document dates come last, by name.
    description.events = sorted(dated, key=lambda e: (e[1] == "", e[1], e[0].label))
    description.mentions = _unique([quote(r) for r in store.query(
        _about(_MENTIONS, iri), prefixes=pre)])
    for row in store.query(_about(_LINKS, iri), prefixes=pre):
        name = knowledge_base_of(row["target"].value)
        kb = KNOWLEDGE_BASES[name].label if name else "other"
        relation = "same as" if row["relation"].value.endswith("sameAs") else "close match"
        description.links.append((f"{kb} ({relation})", term(row["target"]),
                                  row["source"].value if row["source"] else ""))
    lat = next((f.other.value for f in description.outgoing if f.predicate.value.endswith(
        "wgs84_pos#lat")), None)
    long = next((f.other.value for f in description.outgoing if f.predicate.value.endswith(
        "wgs84_pos#long")), None)
    description.coordinates = (lat, long) if lat and long else None
    definition = next((f.other.value for f in description.outgoing if f.predicate.value in (
        EXTERNAL_PREFIXES["skos"] + "definition", EXTERNAL_PREFIXES["rdfs"] + "comment")), "")
    description.definition = definition
    return description


def _labels(store: GraphStore, iris: set[str], prefixes: dict[str, str]) -> dict[str, str]:
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris) if "<" not in i and ">" not in i)
    return {r["x"].value: r["label"].value for r in store.query(
        _LABEL % values, prefixes=prefixes) if r["label"] is not None}


def _unique(quotes: list[Quote]) -> list[Quote]:
    return sorted(set(quotes), key=lambda q: (q.document, q.start, q.end))


def _sentence(text: str | None, start: int, end: int, prefix: str, suffix: str
              ) -> tuple[str, str]:
    """The rest of the quote's sentence before and after it; the recorded context without
    the text."""
    if text is None or text[start:end] == "":
        return prefix, suffix
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    begin = ends[-1] if ends else 0
    following = _SENTENCE_END.search(text, end)
    stop = following.start() + 1 if following else len(text)
    return text[begin:start], text[end:stop].rstrip()


# --- a document ----------------------------------------------------------------------------------

_DOCUMENT_MENTIONS = """
SELECT ?body ?start ?end WHERE {
  ?annotation oa:motivatedBy oa:identifying ; oa:hasBody ?body ; oa:hasTarget ?target .
  ?target oa:hasSource ?iri ; oa:hasSelector ?position .
  ?position oa:start ?start ; oa:end ?end .
}
"""


def document_segments(store: GraphStore, document: str, text: str, prefixes: Mapping[str, str],
                      focus: tuple[int, int] | None = None) -> list[Segment]:
    """The document's text in segments, each with the entities mentioned on it (innermost
    mention first), and `focus` (a quote's offsets) marked."""
    pre = dict(prefixes)
    rows = list(store.query(_about(_DOCUMENT_MENTIONS, document), prefixes=pre))
    spans = [(int(r["start"].value), int(r["end"].value), r["body"].value) for r in rows]
    labels = _labels(store, {body for _, _, body in spans}, pre)
    cuts = {0, len(text)} | {s for s, _, _ in spans} | {e for _, e, _ in spans}
    if focus:
        cuts |= {focus[0], focus[1]}
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    segments = []
    for a, b in itertools.pairwise(points):
        covering = sorted((e - s, body) for s, e, body in spans if s <= a and b <= e)
        entities = tuple(dict.fromkeys(
            Term(body, labels.get(body) or short_iri(body, pre)) for _, body in covering))
        segments.append(Segment(text[a:b], a, entities,
                                bool(focus and focus[0] <= a and b <= focus[1])))
    return segments
