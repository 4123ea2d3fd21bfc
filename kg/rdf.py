"""From annotated corpus to RDF quads: one named graph per document, plus the ontology's graph.

Provenance model (see the README): every fact is asserted as a plain triple in its document's
graph *and* described by an RDF 1.1 `rdf:Statement` node (standard reification) that carries its
evidence, a W3C Web Annotation whose target selects the exact quote (TextQuoteSelector) and its
offsets (TextPositionSelector). What a document only attributes to someone (a Claim) is reified
but not asserted. Everything the build mints is an IRI derived from the annotations (no blank
nodes), so the same corpus always gives the same document graphs.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pyoxigraph as ox

from kg.corpus import Claim, Corpus, DocumentAnnotation, Entity, Quote, Statement
from kg.edtf import DateSpan, combine, parse_edtf
from kg.errors import AnnotationError, Problem
from kg.links import external_iri
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
_OWL = EXTERNAL_PREFIXES["owl"]
_GEO = EXTERNAL_PREFIXES["geo"]
_GSP = EXTERNAL_PREFIXES["gsp"]


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
    statement_nodes: dict[Statement, ox.NamedNode] = field(default_factory=dict)

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
        # A document's graph types and labels what the document mentions, and nothing else:
        # everything it says about an entity it only refers to is typed where it is mentioned.
        for identifier in sorted({doc.id} | {m.entity for m in doc.mentions}):
            self.entity(doc, self.corpus.entities[identifier])
        for mention in doc.mentions:
            entity = self.res(mention.entity)
            annotation = self.annotation(doc, mention.quote, entity, "identifying", mention.entity)
            self.add(entity, self.term("evidence"), annotation)
        for claim in doc.claims:
            self.claim(doc, claim)
        for st in doc.statements:
            self.statement(doc, st)

    def entity(self, doc: DocumentAnnotation, entity: Entity) -> None:
        node = self.res(entity.id)
        self.out.origins[node.value] = entity.where
        for type_name in entity.types:
            if entity.claim is None:
                self.add(node, _TYPE, self.term(type_name))
            elif any(c.id == entity.claim for c in doc.claims):
                # Known only through a claim: that such a thing exists is the claim's, too.
                self.reify(doc, node, _TYPE, self.term(type_name), entity.claim,
                           self.mention_quotes(doc, entity.id), entity.where)
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

    def mention_quotes(self, doc: DocumentAnnotation, entity: str) -> tuple[Quote, ...]:
        return tuple(m.quote for m in doc.mentions if m.entity == entity)

    def reify(self, doc: DocumentAnnotation, subject: ox.NamedNode, predicate: ox.NamedNode,
              obj: ox.NamedNode | ox.Literal, claim: str | None, evidence: tuple[Quote, ...],
              where: str, qualifiers: tuple[tuple[str, ox.NamedNode | ox.Literal], ...] = ()
              ) -> ox.NamedNode:
        """An rdf:Statement node for the triple, with its evidence, qualifiers and claim.

        One node per distinct (triple, claim, qualifiers) in a document: two quotes of the same
        stated fact share a node; a claim of a fact the document also states gets its own.
        """
        key = [subject.value, predicate.value, _term_key(obj), claim or ""]
        key += [f"{name}={_term_key(value)}" for name, value in qualifiers]
        digest = _digest(*key)
        node = self.res(f"{doc.id}/statement/{digest}")
        self.out.origins.setdefault(node.value, where)
        self.add(node, _TYPE, _n(_RDF + "Statement"))
        self.add(node, _n(_RDF + "subject"), subject)
        self.add(node, _n(_RDF + "predicate"), predicate)
        self.add(node, _n(_RDF + "object"), obj)
        for name, value in qualifiers:
            self.add(node, self.term(name), value)
        if claim is not None:
            self.add(self.res(claim), self.term("claims"), node)
        self.evidence(doc, node, evidence, f"statement-{digest}")
        return node

    def statement(self, doc: DocumentAnnotation, st: Statement) -> None:
        subject, predicate = self.res(st.subject), self.term(st.property)
        obj = self.object_of(doc, st)
        if st.claim is None:
            self.add(subject, predicate, obj)
        qualifiers: list[tuple[str, ox.NamedNode | ox.Literal]] = []
        if st.estimate:
            qualifiers.append(("isEstimate", ox.Literal("true", datatype=_n(_XSD + "boolean"))))
        if st.position:
            qualifiers.append(("positionTitle", ox.Literal(st.position)))
        if st.role:
            qualifiers.append(("inRole", self.term(st.role)))
        if st.note:
            qualifiers.append(("note", ox.Literal(st.note)))
        self.statement_nodes[st] = self.reify(doc, subject, predicate, obj, st.claim,
                                              st.evidence, st.where, tuple(qualifiers))
        if st.role is not None and st.object is not None and st.claim is None:
            # A stated role also becomes a Participation node, for queries by role. A claimed
            # role stays on the claimed statement (inRole) only.
            participation = self.res(f"{st.subject}/participation/{st.object}/{st.role}")
            self.add(participation, _TYPE, self.term("Participation"))
            self.add(participation, self.term("participant"), obj)
            self.add(participation, self.term("role"), self.term(st.role))
            self.add(participation, _LABEL, ox.Literal(
                f"{self.corpus.entities[st.object].label} as {st.role.lower()}", language="en"))
            self.add(subject, self.term("hasParticipation"), participation)
            key = _digest(participation.value)
            self.evidence(doc, participation, st.evidence, f"participation-{key}")

    def object_of(self, doc: DocumentAnnotation, st: Statement) -> ox.NamedNode | ox.Literal:
        range_ = self.vocabulary.range_of(st.property)
        if range_ == ("TimeSpan",):
            return self.time_span(doc, st, parse_edtf(str(st.value)))
        if st.object is not None:
            return self.res(st.object)
        value = st.value if st.value is not None else " … ".join(q.text for q in st.evidence)
        datatype = range_[0] if range_ and range_[0].startswith(_XSD) else _XSD + "string"
        if datatype in _DERIVED_INTEGERS | {_XSD + "integer"}:
            # Oxigraph stores derived integer types as xsd:integer, in canonical form ("+05" is
            # 5); writing that from the start keeps the built graph, the store and every export
            # identical (SHACL checks the bounds).
            datatype, value = _XSD + "integer", str(int(value))
        return ox.Literal(value, datatype=_n(datatype))

    def time_span_iri(self, doc: DocumentAnnotation, st: Statement) -> ox.NamedNode:
        slug = str(st.value).replace("/", "--").replace("..", "open")
        return self.res(f"{st.subject}/{st.property}/{doc.id}/{slug}")

    def time_span(self, doc: DocumentAnnotation, st: Statement, span: DateSpan) -> ox.NamedNode:
        node = self.time_span_iri(doc, st)
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

    # -- links out ---------------------------------------------------------------------------------

    def links(self) -> None:
        """owl:sameAs (or skos:closeMatch) and coordinates, each with where it was verified.

        They go to their own graph: they come from outside sources, not from the documents, and
        a researcher who wants only what the texts say can leave that graph out.
        """
        self.graph = _n(self.ns.graph("links"))
        source = self.term("verificationSource")
        for link in self.corpus.links:
            entity, target = self.res(link.entity), _n(external_iri(link.kb, link.id))
            predicate = _n(_OWL + "sameAs") if link.exact else _n(_SKOS + "closeMatch")
            self.add(entity, predicate, target)
            node = self.res(f"{link.entity}/link/{link.kb}/{_digest(target.value)}")
            self.out.origins[node.value] = link.where
            self.add(node, _TYPE, _n(_RDF + "Statement"))
            self.add(node, _n(_RDF + "subject"), entity)
            self.add(node, _n(_RDF + "predicate"), predicate)
            self.add(node, _n(_RDF + "object"), target)
            self.add(node, source, ox.Literal(link.source))
        decimal = _n(_XSD + "decimal")
        for point in self.corpus.coordinates:
            entity = self.res(point.entity)
            lat, long = _decimal(point.lat), _decimal(point.long)
            self.add(entity, _n(_GEO + "lat"), ox.Literal(lat, datatype=decimal))
            self.add(entity, _n(_GEO + "long"), ox.Literal(long, datatype=decimal))
            geometry = self.res(f"{point.entity}/geometry")
            self.out.origins[geometry.value] = point.where
            self.add(entity, _n(_GSP + "hasGeometry"), geometry)
            self.add(geometry, _TYPE, _n(_GSP + "Geometry"))
            self.add(geometry, _n(_GSP + "asWKT"), ox.Literal(
                f"POINT({long} {lat})", datatype=_n(_GSP + "wktLiteral")))  # CRS84: long first
            self.add(geometry, source, ox.Literal(point.source))

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
            event = self.res(subject)
            if len(items) == 1:
                self.graph = _n(self.ns.graph(items[0][0].id))
                self.write_span(event, span, None)
                continue
            # Several statements each give part of the date: their combination is a conclusion
            # of the build, so it goes to the inferred graph with what it was derived from.
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
            for _, st in items:
                self.add(derivation, _n(_PROV + "wasDerivedFrom"), self.statement_nodes[st])
        if problems:
            raise AnnotationError(f"the corpus has {len(problems)} problem"
                                  f"{'s' if len(problems) != 1 else ''}", tuple(problems))


def _decimal(value: float) -> str:
    """A float as a canonical xsd:decimal (no exponent, no trailing zeros: the store's form)."""
    return format(Decimal(repr(value)).normalize(), "f")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _term_key(term: ox.NamedNode | ox.Literal) -> str:
    if isinstance(term, ox.Literal):
        return f'"{term.value}"^^{term.datatype.value}@{term.language or ""}'
    return term.value


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def build_graph(corpus: Corpus, vocabulary: Vocabulary, ns: Namespaces) -> BuiltGraph:
    """All quads of the corpus: each document's graph, the ontology graph, combined dates, links."""
    writer = _Writer(ns, vocabulary, corpus)
    for doc in corpus.documents:
        writer.document(doc)
    writer.event_dates(_n(ns.graph("inferred")))
    writer.links()
    ontology_graph = _n(ns.graph("ontology"))
    for triple in ox.parse(ontology_text(ns), ox.RdfFormat.TURTLE):
        writer.out.quads.append(ox.Quad(triple.subject, triple.predicate, triple.object,
                                        ontology_graph))
    # The same triple stated by two documents is two quads; the same quad twice is one.
    writer.out.quads = list(dict.fromkeys(writer.out.quads))
    return writer.out
