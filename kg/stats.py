"""What the built store holds: counts by class, links out, evidence coverage."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.store import ReadStore

__all__ = ["StoreStats", "store_stats"]

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
    OPTIONAL { ?st ckg:evidence|prov:wasDerivedFrom ?e . BIND(?st AS ?st_ev) } }
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
      ckg:datePrecision, ckg:sha256))
    FILTER NOT EXISTS { ?s a rdf:Statement }
  }
  FILTER(?g NOT IN (?ontology, ?inferred))
  BIND(EXISTS { GRAPH ?g { ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
                           ckg:evidence ?annotation } } AS ?quoted)
}
"""
_LINKS = """
SELECT ?kb (COUNT(DISTINCT ?x) AS ?n) WHERE {
  ?x owl:sameAs ?target .
  BIND(IF(STRSTARTS(STR(?target), "http://www.wikidata.org/"), "Wikidata",
       IF(STRSTARTS(STR(?target), "http://dbpedia.org/"), "DBpedia",
       IF(STRSTARTS(STR(?target), "https://sws.geonames.org/"), "GeoNames", "other"))) AS ?kb)
} GROUP BY ?kb ORDER BY ?kb
"""


@dataclass
class StoreStats:
    """Counts that describe a built store."""

    quads: int
    graphs: list[str]
    by_class: dict[str, int] = field(default_factory=dict)
    links: dict[str, int] = field(default_factory=dict)
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
                 "links: " + (", ".join(f"{k} {v}" for k, v in self.links.items()) or "none yet"),
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
    store = ReadStore.open_current(settings.store_dir)
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
    for row in store.query(_LINKS, prefixes=prefixes):
        stats.links[row["kb"].value] = int(row["n"].value)
    return stats
