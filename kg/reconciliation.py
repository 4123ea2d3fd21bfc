"""Reconciliation: match a name (a spreadsheet cell) to the graph's entities, ranked with scores.

Each entity is known by its label, its aliases and every way the documents write it (the exact
text of its mentions), so 'Qassim Soleimani' and 'Katab Hezbollah' find theirs. A candidate's
score (0-100) is the best similarity of the query to any of its names; a type narrows the
candidates to instances of an ontology class (subclasses included).
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field

from kg.store import ReadStore

__all__ = ["Candidate", "EntityIndex", "normalize"]

_ENTITIES = """
SELECT ?x ?label ?name ?type WHERE {
  ?x skos:prefLabel ?label ; a ?type .
  FILTER(STRSTARTS(STR(?x), STR(res:)) && STRSTARTS(STR(?type), STR(ckg:)))
  OPTIONAL { { ?x skos:altLabel ?name }
             UNION { ?x ckg:evidence/oa:hasTarget/oa:hasSelector/oa:exact ?name } }
}
"""
_FOLD = str.maketrans("’‘\u00a0-", "''  ")  # typographic quotes, no-break space, hyphen
_CLASSES = """
SELECT ?class ?super ?label WHERE {
  ?class a owl:Class ; rdfs:subClassOf* ?super ; rdfs:label ?label .
  FILTER(STRSTARTS(STR(?class), STR(ckg:)) && STRSTARTS(STR(?super), STR(ckg:)))
}
"""


def normalize(text: str) -> str:
    """Case, accents, quotes and spacing folded away: what two spellings of a name share."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    kept = kept.translate(_FOLD)
    kept = "".join(c for c in kept if c.isalnum() or c.isspace())
    return " ".join(kept.split())


@dataclass
class _Entity:
    iri: str
    label: str
    names: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Candidate:
    """An entity that may be what the query names."""

    iri: str
    name: str
    types: tuple[str, ...]
    score: float
    match: bool
    matched_name: str


class EntityIndex:
    """The graph's entities by name, for one build."""

    def __init__(self, store: ReadStore, prefixes: dict[str, str]) -> None:
        entities: dict[str, _Entity] = {}
        for row in store.query(_ENTITIES, prefixes=prefixes):
            iri = row["x"].value
            entity = entities.setdefault(iri, _Entity(iri, row["label"].value))
            entity.names.add(row["label"].value)
            entity.types.add(row["type"].value)
            if row["name"] is not None:
                entity.names.add(row["name"].value)
        self.entities = entities
        #: class IRI -> its superclasses (itself included), and every class's label
        self.superclasses: dict[str, set[str]] = {}
        self.class_labels: dict[str, str] = {}
        for row in store.query(_CLASSES, prefixes=prefixes):
            self.superclasses.setdefault(row["class"].value, set()).add(row["super"].value)
            self.class_labels[row["class"].value] = row["label"].value
        self._normalized = {iri: {normalize(n): n for n in e.names}
                            for iri, e in entities.items()}

    def is_a(self, iri: str, class_iri: str) -> bool:
        """Whether the entity is an instance of the class (or of a subclass)."""
        return any(class_iri in self.superclasses.get(t, {t})
                   for t in self.entities[iri].types)

    def search(self, query: str, types: tuple[str, ...] = (), limit: int = 10
               ) -> list[Candidate]:
        """The best candidates for `query`, best first."""
        wanted = normalize(query)
        if not wanted:
            return []
        scored = []
        for iri, names in self._normalized.items():
            if types and not any(self.is_a(iri, t) for t in types):
                continue
            best, matched = 0.0, ""
            for normal, original in names.items():
                ratio = difflib.SequenceMatcher(None, wanted, normal).ratio()
                if normal == wanted:
                    ratio = 1.0
                elif f" {wanted} " in f" {normal} ":
                    # A surname alone, or part of a longer name: better the more it covers.
                    ratio = max(ratio, 0.8 + 0.15 * len(wanted) / len(normal))
                if ratio > best:
                    best, matched = ratio, original
            if best >= 0.5:
                scored.append((best, iri, matched))
        scored.sort(key=lambda item: (-item[0], self.entities[item[1]].label))
        candidates = []
        for rank, (score, iri, matched) in enumerate(scored[:limit]):
            runner_up = scored[rank + 1][0] if rank + 1 < len(scored) else 0.0
            entity = self.entities[iri]
            # A match OpenRefine may accept unseen: an exact name that no other entity shares.
            match = rank == 0 and score == 1.0 and runner_up < 1.0
            candidates.append(Candidate(iri, entity.label, tuple(sorted(entity.types)),
                                        round(score * 100, 1), match, matched))
        return candidates

    def suggest(self, prefix: str, limit: int = 10) -> list[tuple[str, str]]:
        """Entities one of whose names starts with `prefix` (or a word of it): (iri, label)."""
        wanted = normalize(prefix)
        hits = []
        for iri, names in self._normalized.items():
            if any(n.startswith(wanted) or f" {wanted}" in f" {n}" for n in names):
                hits.append((self.entities[iri].label, iri))
        return [(iri, label) for label, iri in sorted(hits)[:limit]]
