"""What the built store holds: counts by class, links out, evidence coverage."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.backends import open_store
from kg.links import KNOWLEDGE_BASES, knowledge_base_of
from kg.namespaces import Namespaces
from kg.settings import Settings

__all__ = ["LinkCoverage", "StoreStats", "store_stats"]

_BY_CLASS = """
SELECT ?class (COUNT(DISTINCT ?x) AS ?n) WHERE {
  GRAPH ?g { ?x a ?class }
  FILTER(STRSTARTS(STR(?class), STR(ckg:)) && ?g NOT IN (?ontology, ?inferred))
} GROUP BY ?class ORDER BY ?class
"""
# Things a researcher asks about: everything typed in a document's graph except provenance nodes.
_COVERAGE = """
SELECT (COUNT(DISTINCT ?x) AS ?things) (COUNT(DISTINCT ?evidenced) AS ?with_evidence)
       (COUNT(DISTINCT ?st) AS ?statements) (COUNT(DISTINCT ?st_ev) AS ?statements_with_evidence)
WHERE {
  { GRAPH ?g { ?x a ?class }
    FILTER(STRSTARTS(STR(?class), STR(ckg:)) && ?g NOT IN (?ontology, ?inferred)
      && ?class NOT IN (ckg:TimeSpan, ckg:SourceDocument))
    OPTIONAL { ?x ckg:evidence ?a . BIND(?x AS ?evidenced) } }
  UNION
  { ?st a rdf:Statement .
    OPTIONAL { ?st ckg:evidence|prov:wasDerivedFrom|ckg:verificationSource ?e .
               BIND(?st AS ?st_ev) } }
}
"""
# Facts a document asserts (ontology properties between things, or with values) and whether the
# same graph holds a reified statement of exactly that triple with a quote.
_FACTS = """
SELECT (COUNT(*) AS ?facts) (SUM(IF(?quoted, 1, 0)) AS ?quoted_facts) WHERE {
  GRAPH ?g {
    ?s ?p ?o
    FILTER(STRSTARTS(STR(?p), STR(ckg:)) && ?p NOT IN (ckg:evidence, ckg:claims, ckg:claimText,
      ckg:claimedBy, ckg:about, ckg:claimSource, ckg:hasParticipation, ckg:participant, ckg:role,
      ckg:edtf, ckg:earliest, ckg:latest, ckg:precision, ckg:earliestDate, ckg:latestDate,
      ckg:datePrecision, ckg:sha256, ckg:verificationSource))
    FILTER NOT EXISTS { ?s a rdf:Statement }
  }
  FILTER(?g NOT IN (?ontology, ?inferred))
  BIND(EXISTS { GRAPH ?g { ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
                           ckg:evidence ?annotation } } AS ?quoted)
}
"""
# Actors and places: the entities an outside knowledge base can have (events and claims are ours).
_LINKABLE = """
SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {
  ?x a ?class . ?class rdfs:subClassOf* ?top . VALUES ?top { ckg:Actor ckg:Location }
}
"""
_LINKS = """
SELECT ?x ?relation ?target WHERE {
  VALUES ?relation { owl:sameAs skos:closeMatch } ?x ?relation ?target
}
"""
_PLACES = """
SELECT (COUNT(DISTINCT ?place) AS ?places) (COUNT(DISTINCT ?located) AS ?with_coordinates) WHERE {
  ?place a ?class . ?class rdfs:subClassOf* ckg:Location .
  OPTIONAL { ?place geo:lat ?lat . BIND(?place AS ?located) }
}
"""


@dataclass
class LinkCoverage:
    """How many actors and places one knowledge base links."""

    exact: int = 0  # owl:sameAs
    close: int = 0  # skos:closeMatch, and no owl:sameAs to the same knowledge base


@dataclass
class StoreStats:
    """Counts that describe a built store."""

    quads: int
    graphs: list[str]
    by_class: dict[str, int] = field(default_factory=dict)
    links: dict[str, LinkCoverage] = field(default_factory=dict)
    linkable: int = 0
    places: int = 0
    places_with_coordinates: int = 0
    things: int = 0
    with_evidence: int = 0
    statements: int = 0
    statements_with_evidence: int = 0
    facts: int = 0
    quoted_facts: int = 0
    dataset_version: str = ""

    def render(self) -> str:
        """The statistics as text."""
        lines = [f"dataset version {self.dataset_version}: {self.quads} quads in "
                 f"{len(self.graphs)} named graphs",
                 f"evidence: {self.with_evidence}/{self.things} entities, events and claims, "
                 f"{self.statements_with_evidence}/{self.statements} statements",
                 f"facts asserted with a quote in their document's graph: "
                 f"{self.quoted_facts}/{self.facts}",
                 f"links out, of {self.linkable} actors and places:"]
        for name, coverage in self.links.items():
            share = coverage.exact / self.linkable if self.linkable else 0.0
            lines.append(f"  {name:<10} {coverage.exact:>4} owl:sameAs ({share:.0%})"
                         + (f", {coverage.close} more skos:closeMatch" if coverage.close else ""))
        lines += [f"  coordinates: {self.places_with_coordinates}/{self.places} places",
                  "entities by class (asserted, in document graphs):"]
        lines += [f"  {name:<28} {count:>5}" for name, count in self.by_class.items()]
        return "\n".join(lines)


def _bind(query: str, graphs: dict[str, str]) -> str:
    # Graph IRIs go into FILTER lists, where SEP-0007 substitutions cannot reach; they are our own
    # constants, never user input.
    for variable, iri in graphs.items():
        query = query.replace(variable, iri)
    return query


def store_stats(settings: Settings) -> StoreStats:
    """Compute the statistics of the current store."""
    ns = Namespaces(settings.base_iri)
    store = open_store(settings)
    prefixes = ns.prefixes()
    graphs = {"?ontology": f"<{ns.graph('ontology')}>", "?inferred": f"<{ns.graph('inferred')}>"}
    stats = StoreStats(quads=store.manifest.counts["quads"], graphs=store.named_graphs(),
                       dataset_version=store.manifest.dataset_version)
    for row in store.query(_bind(_BY_CLASS, graphs), prefixes=prefixes):
        stats.by_class[row["class"].value[len(ns.term_prefix):]] = int(row["n"].value)
    for row in store.query(_bind(_COVERAGE, graphs), prefixes=prefixes):
        stats.things = int(row["things"].value)
        stats.with_evidence = int(row["with_evidence"].value)
        stats.statements = int(row["statements"].value)
        stats.statements_with_evidence = int(row["statements_with_evidence"].value)
    for row in store.query(_bind(_FACTS, graphs), prefixes=prefixes):
        stats.facts = int(row["facts"].value)
        stats.quoted_facts = int(row["quoted_facts"].value) if row["quoted_facts"] else 0
    stats.linkable = int(next(iter(store.query(_LINKABLE, prefixes=prefixes)))["n"].value)
    exact: dict[str, set[str]] = {kb: set() for kb in KNOWLEDGE_BASES}
    close: dict[str, set[str]] = {kb: set() for kb in KNOWLEDGE_BASES}
    for row in store.query(_LINKS, prefixes=prefixes):
        kb = knowledge_base_of(row["target"].value)
        if kb is not None:
            linked = exact if row["relation"].value.endswith("sameAs") else close
            linked[kb].add(row["x"].value)
    stats.links = {kb.label: LinkCoverage(len(exact[name]), len(close[name] - exact[name]))
                   for name, kb in KNOWLEDGE_BASES.items()}
    for row in store.query(_PLACES, prefixes=prefixes):
        stats.places = int(row["places"].value)
        stats.places_with_coordinates = int(row["with_coordinates"].value)
    return stats
