"""From annotated corpus to RDF quads: one named graph per document, plus the ontology's graph.

Provenance model (see the README): every fact is asserted as a plain triple in its document's
graph *and* described by an RDF 1.1 `rdf:Statement` node (standard reification) that carries its
evidence, a W3C Web Annotation whose target selects the exact quote (TextQuoteSelector) and its
offsets (TextPositionSelector). What a document only attributes to someone (a Claim) is reified
but not asserted. Every resource is an IRI; no blank nodes, so builds are deterministic.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.corpus import Claim, Corpus, DocumentAnnotation, Entity, Quote, Statement
from kg.edtf import DateSpan, combine, parse_edtf
from kg.errors import AnnotationError, Problem
from kg.namespaces import EXTERNAL_PREFIXES, Namespaces
from kg.vocabulary import Vocabulary, ontology_text

__all__ = ["CONTEXT_CHARS", "BuiltGraph", "build_graph"]

#: How many characters of text before and after a quote its TextQuoteSelector records.
CONTEXT_CHARS = 32

_RDF = EXTERNAL_PREFIXES["rdf"]
_RDFS = EXTERNAL_PREFIXES["rdfs"]
_XSD = EXTERNAL_PREFIXES["xsd"]
_SKOS = EXTERNAL_PREFIXES["skos"]
_OA = EXTERNAL_PREFIXES["oa"]
_PROV = EXTERNAL_PREFIXES["prov"]
_DCTERMS = EXTERNAL_PREFIXES["dcterms"]


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


_TYPE = _n(_RDF + "type")
_DERIVED_INTEGERS = {_XSD + t for t in ("nonNegativeInteger", "positiveInteger")}
_LABEL = _n(_RDFS + "label")


@dataclass
class BuiltGraph:
    """The quads of a build and, for error messages, where each resource was annotated."""

    quads: list[ox.Quad] = field(default_factory=list)
    origins: dict[str, str] = field(default_factory=dict)  # IRI -> file:line

    def graph(self, iri: str) -> list[ox.Quad]:
        """The quads of one named graph."""
        return [q for q in self.quads if isinstance(q.graph_name, ox.NamedNode)
                and q.graph_name.value == iri]


@dataclass
class _Writer:
    ns: Namespaces
    vocabulary: Vocabulary
    corpus: Corpus
    out: BuiltGraph = field(default_factory=BuiltGraph)
    graph: ox.NamedNode = field(default_factory=lambda: _n("urn:unset"))

    def term(self, name: str) -> ox.NamedNode:
        return _n(self.ns.term(name))

    def res(self, identifier: str) -> ox.NamedNode:
        return _n(self.ns.resource(identifier))

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        self.out.quads.append(ox.Quad(s, p, o, self.graph))

    # -- documents ---------------------------------------------------------------------------------

    def document(self, doc: DocumentAnnotation) -> None:
        self.graph = _n(self.ns.graph(doc.id))
        node = self.res(doc.id)
        self.out.origins[node.value] = f"{doc.annotation_path}:1"
        self.add(node, _n(_DCTERMS + "identifier"), ox.Literal(doc.text_path.name))
        self.add(node, _n(_DCTERMS + "extent"),
                 ox.Literal(str(len(doc.text)), datatype=_n(_XSD + "integer")))
        self.add(node, self.term("sha256"), ox.Literal(
            hashlib.sha256(doc.text.encode("utf-8")).hexdigest()))
        used = {doc.id} | {m.entity for m in doc.mentions}
        for st in doc.statements:
            used.add(st.subject)
            if st.object is not None:
                used.add(st.object)
        for claim in doc.claims:
            used |= {claim.by, *claim.about, *([claim.source] if claim.source else [])}
        for identifier in sorted(used):
            self.entity(self.corpus.entities[identifier])
        for mention in doc.mentions:
            entity = self.res(mention.entity)
            annotation = self.annotation(doc, mention.quote, entity, "identifying", mention.entity)
            self.add(entity, self.term("evidence"), annotation)
        for claim in doc.claims:
            self.claim(doc, claim)
        for st in doc.statements:
            self.statement(doc, st)

    def entity(self, entity: Entity) -> None:
        node = self.res(entity.id)
        self.out.origins[node.value] = entity.where
        for type_name in entity.types:
            self.add(node, _TYPE, self.term(type_name))
        self.add(node, _LABEL, ox.Literal(entity.label, language="en"))
        self.add(node, _n(_SKOS + "prefLabel"), ox.Literal(entity.label, language="en"))
        for alias in entity.aliases:
            self.add(node, _n(_SKOS + "altLabel"), ox.Literal(alias, language="en"))

    # -- annotations -------------------------------------------------------------------------------

    def annotation(self, doc: DocumentAnnotation, quote: Quote, body: ox.NamedNode,
                   motivation: str, key: str) -> ox.NamedNode:
        """A Web Annotation of `quote` whose body is `body`; returns the annotation's IRI."""
        span = f"{doc.id}/text/{quote.start}-{quote.end}"
        target = self.res(span)
        annotation = self.res(f"{doc.id}/annotation/{quote.start}-{quote.end}/{key}")
        self.out.origins[annotation.value] = quote.where
        self.add(annotation, _TYPE, _n(_OA + "Annotation"))
        self.add(annotation, _n(_OA + "motivatedBy"), _n(_OA + motivation))
        self.add(annotation, _n(_OA + "hasBody"), body)
        self.add(annotation, _n(_OA + "hasTarget"), target)
        self.add(target, _TYPE, _n(_OA + "SpecificResource"))
        self.add(target, _n(_OA + "hasSource"), self.res(doc.id))
        quote_selector, position = _n(target.value + "#quote"), _n(target.value + "#position")
        self.add(target, _n(_OA + "hasSelector"), quote_selector)
        self.add(target, _n(_OA + "hasSelector"), position)
        self.add(quote_selector, _TYPE, _n(_OA + "TextQuoteSelector"))
        self.add(quote_selector, _n(_OA + "exact"), ox.Literal(quote.text))
        self.add(quote_selector, _n(_OA + "prefix"),
                 ox.Literal(doc.text[max(0, quote.start - CONTEXT_CHARS) : quote.start]))
        self.add(quote_selector, _n(_OA + "suffix"),
                 ox.Literal(doc.text[quote.end : quote.end + CONTEXT_CHARS]))
        count = _n(_XSD + "integer")  # oa: says nonNegativeInteger; see object_of on why not
        self.add(position, _TYPE, _n(_OA + "TextPositionSelector"))
        self.add(position, _n(_OA + "start"), ox.Literal(str(quote.start), datatype=count))
        self.add(position, _n(_OA + "end"), ox.Literal(str(quote.end), datatype=count))
        return annotation

    def evidence(self, doc: DocumentAnnotation, node: ox.NamedNode, quotes: tuple[Quote, ...],
                 key: str) -> None:
        for quote in quotes:
            annotation = self.annotation(doc, quote, node, "describing", key)
            self.add(node, self.term("evidence"), annotation)

    # -- claims and statements ---------------------------------------------------------------------

    def claim(self, doc: DocumentAnnotation, claim: Claim) -> None:
        node = self.res(claim.id)
        self.out.origins[node.value] = claim.where
        by = self.corpus.entities[claim.by]
        text = " … ".join(q.text for q in claim.evidence)
        self.add(node, _TYPE, self.term("Claim"))
        self.add(node, _LABEL, ox.Literal(f"Claim by {by.label}: {_clip(text)}", language="en"))
        self.add(node, self.term("claimedBy"), self.res(claim.by))
        self.add(node, self.term("claimText"), ox.Literal(text))
        for about in claim.about:
            self.add(node, self.term("about"), self.res(about))
        if claim.source:
            self.add(node, self.term("claimSource"), self.res(claim.source))
        self.evidence(doc, node, claim.evidence, claim.id)

    def statement(self, doc: DocumentAnnotation, st: Statement) -> None:
        subject, predicate = self.res(st.subject), self.term(st.property)
        obj = self.object_of(doc, st)
        if st.claim is None:
            self.add(subject, predicate, obj)
        digest = _digest(subject.value, predicate.value, _term_key(obj))
        node = self.res(f"{doc.id}/statement/{digest}")
        self.out.origins[node.value] = st.where
        self.add(node, _TYPE, _n(_RDF + "Statement"))
        self.add(node, _n(_RDF + "subject"), subject)
        self.add(node, _n(_RDF + "predicate"), predicate)
        self.add(node, _n(_RDF + "object"), obj)
        if st.estimate:
            self.add(node, self.term("isEstimate"),
                     ox.Literal("true", datatype=_n(_XSD + "boolean")))
        if st.position:
            self.add(node, self.term("positionTitle"), ox.Literal(st.position))
        if st.note:
            self.add(node, self.term("note"), ox.Literal(st.note))
        if st.claim is not None:
            self.add(self.res(st.claim), self.term("claims"), node)
        self.evidence(doc, node, st.evidence, f"statement-{digest}")
        if st.role is not None and st.object is not None:
            participation = self.res(f"{st.subject}/participation/{st.object}/{st.role}")
            self.add(participation, _TYPE, self.term("Participation"))
            self.add(participation, self.term("participant"), obj)
            self.add(participation, self.term("role"), self.term(st.role))
            self.add(participation, _LABEL, ox.Literal(
                f"{self.corpus.entities[st.object].label} as {st.role.lower()}", language="en"))
            if st.claim is None:
                self.add(subject, self.term("hasParticipation"), participation)
            self.evidence(doc, participation, st.evidence, f"participation-{digest}")

    def object_of(self, doc: DocumentAnnotation, st: Statement) -> ox.NamedNode | ox.Literal:
        range_ = self.vocabulary.range_of(st.property)
        if range_ == ("TimeSpan",):
            return self.time_span(doc, st, parse_edtf(str(st.value)))
        if st.object is not None:
            return self.res(st.object)
        value = st.value if st.value is not None else " … ".join(q.text for q in st.evidence)
        datatype = range_[0] if range_ and range_[0].startswith(_XSD) else _XSD + "string"
        if datatype in _DERIVED_INTEGERS:
            # Oxigraph stores derived integer types as xsd:integer; writing that type from the
            # start keeps the built graph, the store and every export identical (SHACL checks
            # the bounds).
            datatype = _XSD + "integer"
        return ox.Literal(value, datatype=_n(datatype))

    def time_span(self, doc: DocumentAnnotation, st: Statement, span: DateSpan) -> ox.NamedNode:
        slug = span.edtf.replace("/", "--").replace("..", "open")
        node = self.res(f"{st.subject}/{st.property}/{doc.id}/{slug}")
        self.write_span(node, span, self.term("TimeSpan"))
        return node

    def write_span(self, node: ox.NamedNode, span: DateSpan, kind: ox.NamedNode | None) -> None:
        """The EDTF value, bounds and precision of a span, on a TimeSpan or on an event."""
        date = _n(_XSD + "date")
        on_event = kind is None
        if kind is not None:
            self.add(node, _TYPE, kind)
            self.add(node, _LABEL, ox.Literal(span.edtf))
        self.add(node, self.term("edtf"), ox.Literal(span.edtf))
        if span.earliest:
            name = "earliestDate" if on_event else "earliest"
            self.add(node, self.term(name), ox.Literal(span.earliest.isoformat(), datatype=date))
        if span.latest:
            name = "latestDate" if on_event else "latest"
            self.add(node, self.term(name), ox.Literal(span.latest.isoformat(), datatype=date))
        name = "datePrecision" if on_event else "precision"
        self.add(node, self.term(name), self.term(f"{span.precision}Precision"))

    # -- dates combined across documents -----------------------------------------------------------

    def event_dates(self, inferred: ox.NamedNode) -> None:
        """Give each dated event one sortable date: the narrowest every document's dating allows."""
        stated: dict[str, list[tuple[DocumentAnnotation, Statement]]] = defaultdict(list)
        for doc in self.corpus.documents:
            for st in doc.statements:
                if st.property == "date" and st.claim is None:
                    stated[st.subject].append((doc, st))
        problems = []
        for subject, items in sorted(stated.items()):
            types = self.corpus.entities[subject].types
            if not any(self.vocabulary.is_a(t, ("Event",)) for t in types):
                continue
            span = combine([parse_edtf(str(st.value)) for _, st in items])
            if span is None:
                stated_as = "; ".join(f"{st.value} at {st.where}" for _, st in items)
                problems.append(Problem(items[0][1].where, f"the dates of '{subject}' contradict "
                                        f"each other: {stated_as}",
                                        "correct the date that misreads its text, or split the "
                                        "event in two if they are different events"))
                continue
            documents = {doc.id for doc, _ in items}
            event = self.res(subject)
            if len(documents) == 1:
                self.graph = _n(self.ns.graph(documents.pop()))
                self.write_span(event, span, None)
                continue
            # Several documents each state part of the date: the combination is a conclusion of
            # the build, so it goes to the inferred graph with what it was derived from.
            self.graph = inferred
            self.write_span(event, span, None)
            derivation = self.res(f"{subject}/date-combined")
            self.add(derivation, _TYPE, _n(_RDF + "Statement"))
            self.add(derivation, _n(_RDF + "subject"), event)
            self.add(derivation, _n(_RDF + "predicate"), self.term("edtf"))
            self.add(derivation, _n(_RDF + "object"), ox.Literal(span.edtf))
            self.add(derivation, self.term("note"), ox.Literal(
                "Combined from the dates the documents state: " + "; ".join(
                    f"{st.value} ({doc.id})" for doc, st in items)))
            for doc, st in items:
                source = self.time_span(doc, st, parse_edtf(str(st.value)))
                digest = _digest(event.value, self.ns.term("date"), _term_key(source))
                self.graph = inferred
                self.add(derivation, _n(_PROV + "wasDerivedFrom"),
                         self.res(f"{doc.id}/statement/{digest}"))
        if problems:
            raise AnnotationError(f"the corpus has {len(problems)} problem"
                                  f"{'s' if len(problems) != 1 else ''}", tuple(problems))


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _term_key(term: ox.NamedNode | ox.Literal) -> str:
    if isinstance(term, ox.Literal):
        return f'"{term.value}"^^{term.datatype.value}@{term.language or ""}'
    return term.value


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def build_graph(corpus: Corpus, vocabulary: Vocabulary, ns: Namespaces) -> BuiltGraph:
    """All quads of the corpus: each document's graph, the ontology graph, combined dates."""
    writer = _Writer(ns, vocabulary, corpus)
    for doc in corpus.documents:
        writer.document(doc)
    writer.event_dates(_n(ns.graph("inferred")))
    ontology_graph = _n(ns.graph("ontology"))
    for triple in ox.parse(ontology_text(ns), ox.RdfFormat.TURTLE):
        writer.out.quads.append(ox.Quad(triple.subject, triple.predicate, triple.object,
                                        ontology_graph))
    # The same triple stated by two documents is two quads; the same quad twice is one.
    writer.out.quads = list(dict.fromkeys(writer.out.quads))
    return writer.out


def iter_graph_names(built: BuiltGraph) -> Iterator[str]:
    """The named graphs of a build, in first-seen order."""
    seen: dict[str, None] = {}
    for quad in built.quads:
        if isinstance(quad.graph_name, ox.NamedNode):
            seen.setdefault(quad.graph_name.value)
    yield from seen
