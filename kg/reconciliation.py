"""Reconciliation: match a name (a spreadsheet cell) to the graph's entities, ranked with scores.

Each entity is known by its label, its aliases and every way the documents write it (the exact
text of its mentions), so 'Qassim Soleimani' and 'Katab Hezbollah' find theirs. A candidate's
score (0-100) is the best similarity of the query to any of its names; a type narrows the
candidates to instances of an ontology class (subclasses included). Properties refine it: each
value a query gives for a property (an entity id, or a name, date or number) is compared with
the candidate's own values, and the score is the mean of the name's and the properties' scores.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.store import GraphStore

__all__ = ["Candidate", "EntityIndex", "PropertyCondition", "normalize"]

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

_VALUES = """
SELECT ?x ?p ?o WHERE {
  ?x ?p ?o . ?p a ?kind .
  VALUES ?kind { owl:ObjectProperty owl:DatatypeProperty }
  FILTER(STRSTARTS(STR(?x), STR(res:)) && STRSTARTS(STR(?p), STR(ckg:)) && ?p != ckg:evidence)
}
"""
_PROPERTIES = """
SELECT ?p ?label WHERE {
  ?p a ?kind ; rdfs:label ?label .
  VALUES ?kind { owl:ObjectProperty owl:DatatypeProperty }
  FILTER(STRSTARTS(STR(?p), STR(ckg:)) && ?p != ckg:evidence)  # evidence: quotes, not facts
}
"""
# A name this close to one of the candidate's values counts, in proportion; less counts for
# nothing. Dates and numbers must be equal.
_CLOSE_VALUE = 0.8


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
class PropertyCondition:
    """What a query says of a property: the candidate should have one of these values.

    A value is an entity IRI, or a text (a name, a date, a number) compared as names are.
    """

    property: str
    iris: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """An entity that may be what the query names."""

    iri: str
    name: str
    types: tuple[str, ...]
    score: float
    match: bool
    matched_name: str
    #: (feature, 0-100): the name's score, then each property's
    features: tuple[tuple[str, float], ...] = ()


class EntityIndex:
    """The graph's entities by name, for one build."""

    def __init__(self, store: GraphStore, prefixes: dict[str, str]) -> None:
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
        #: entity -> property -> its values (IRIs as they are, literals by their text)
        self.values: dict[str, dict[str, set[str]]] = {}
        for row in store.query(_VALUES, prefixes=prefixes):
            value = row["o"].value
            self.values.setdefault(row["x"].value, {}).setdefault(row["p"].value, set()).add(
                value if isinstance(row["o"], ox.NamedNode) else normalize(value))
        self.property_labels = {row["p"].value: row["label"].value
                                for row in store.query(_PROPERTIES, prefixes=prefixes)}

    def is_a(self, iri: str, class_iri: str) -> bool:
        """Whether the entity is an instance of the class (or of a subclass)."""
        return any(class_iri in self.superclasses.get(t, {t})
                   for t in self.entities[iri].types)

    def search(self, query: str, types: tuple[str, ...] = (), limit: int = 10,
               conditions: tuple[PropertyCondition, ...] = ()) -> list[Candidate]:
        """The best candidates for `query`, best first."""
        wanted = normalize(query)
        if not wanted:
            return []
        scored = []
        for iri, names in self._normalized.items():
            if types and not any(self.is_a(iri, t) for t in types):
                continue
            name_score, matched = self._name_score(wanted, names)
            if name_score < 0.5:
                continue
            features = [("name", name_score)] + [
                (c.property, self._property_score(iri, c)) for c in conditions]
            score = sum(value for _, value in features) / len(features)
            scored.append((score, iri, matched, features))
        scored.sort(key=lambda item: (-item[0], self.entities[item[1]].label))
        candidates = []
        for rank, (score, iri, matched, features) in enumerate(scored[:limit]):
            runner_up = scored[rank + 1][0] if rank + 1 < len(scored) else 0.0
            entity = self.entities[iri]
            # A match OpenRefine may accept unseen: an exact name (and every property value)
            # that no other entity shares.
            match = rank == 0 and score == 1.0 and runner_up < 1.0
            candidates.append(Candidate(iri, entity.label, tuple(sorted(entity.types)),
                                        round(score * 100, 1), match, matched,
                                        tuple((f, round(v * 100, 1)) for f, v in features)))
        return candidates

    @staticmethod
    def _name_score(wanted: str, names: dict[str, str]) -> tuple[float, str]:
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
        return best, matched

    def _property_score(self, iri: str, condition: PropertyCondition) -> float:
        """How well the entity's values of the property agree with the condition's (0-1)."""
        have = self.values.get(iri, {}).get(condition.property, set())
        if any(value in have for value in condition.iris):
            return 1.0
        # Otherwise by name: the texts given, and the names of the entities given, against
        # the names of the entities it has (or its literal values).
        wanted = {normalize(t) for t in condition.texts}
        wanted |= {n for i in condition.iris for n in self._normalized.get(i, {})}
        own = set()
        for value in have:
            own |= set(self._normalized.get(value, {value: value}))
        best = 0.0
        for text in wanted:
            for name in own:
                if text == name:
                    return 1.0
                if any(c.isdigit() for c in text + name):
                    continue  # a date or a number is right or wrong, never nearly right
                ratio = difflib.SequenceMatcher(None, text, name).ratio()
                best = max(best, ratio if ratio >= _CLOSE_VALUE else 0.0)
        return best

    def suggest(self, prefix: str, limit: int = 10) -> list[tuple[str, str]]:
        """Entities one of whose names starts with `prefix` (or a word of it): (iri, label)."""
        wanted = normalize(prefix)
        hits = []
        for iri, names in self._normalized.items():
            if any(n.startswith(wanted) or f" {wanted}" in f" {n}" for n in names):
                hits.append((self.entities[iri].label, iri))
        return [(iri, label) for label, iri in sorted(hits)[:limit]]
