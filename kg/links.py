"""Links out: identifiers in Wikidata, DBpedia and GeoNames, and coordinates, each verified.

`corpus/links.yaml` lists them; every item names the source where it was checked. This module
turns an identifier into the knowledge base's IRI and checks the list against the corpus: the
entity exists, the identifier is well-formed, a place-only knowledge base links only places, and
no two entities claim to be the same outside thing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from kg.corpus import Coordinates, Entity, ExternalLink
from kg.vocabulary import Vocabulary

__all__ = ["KNOWLEDGE_BASES", "KnowledgeBase", "LinkTable", "external_iri", "knowledge_base_of",
           "read_links"]


class KnowledgeBase(NamedTuple):
    """An outside knowledge base: its IRI prefix, its name, and what an identifier looks like."""

    prefix: str
    label: str
    form: str


#: The knowledge bases crisiskg links to, by the name links.yaml uses.
KNOWLEDGE_BASES: dict[str, KnowledgeBase] = {
    "wikidata": KnowledgeBase("http://www.wikidata.org/entity/", "Wikidata",
                              "a Q-id such as Q794"),
    "dbpedia": KnowledgeBase("http://dbpedia.org/resource/", "DBpedia",
                             "an English Wikipedia article title"),
    "geonames": KnowledgeBase("https://sws.geonames.org/", "GeoNames",
                              "a GeoNames id such as 112931"),
}
_FORMS = {
    "wikidata": re.compile(r"Q[1-9][0-9]*"),
    "geonames": re.compile(r"[1-9][0-9]*"),
    # A Wikipedia title: no leading or trailing space, none of the characters titles exclude.
    "dbpedia": re.compile(r"[^\s#<>\[\]{}|_][^#<>\[\]{}|]*(?<!\s)"),
}
# Characters a title may hold that an IRI may not; everything else (non-ASCII included) stays.
_IRI_UNSAFE = re.compile(r'[\x00-\x20"<>\\^`{|}]')

Report = Callable[[str, str, str], None]


def external_iri(kb: str, identifier: str) -> str:
    """The IRI of an identifier in a knowledge base (a DBpedia IRI from a Wikipedia title)."""
    prefix = KNOWLEDGE_BASES[kb].prefix
    if kb == "dbpedia":
        title = identifier.replace(" ", "_")
        return prefix + _IRI_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", title)
    if kb == "geonames":
        return f"{prefix}{identifier}/"
    return prefix + identifier


def knowledge_base_of(iri: str) -> str | None:
    """Which knowledge base an IRI belongs to, if any of ours."""
    return next((name for name, kb in KNOWLEDGE_BASES.items() if iri.startswith(kb.prefix)),
                None)


@dataclass(frozen=True)
class LinkTable:
    """The checked contents of links.yaml."""

    identifiers: tuple[ExternalLink, ...] = ()
    coordinates: tuple[Coordinates, ...] = ()


def read_links(items: Iterable[Any], shown: str, entities: dict[str, Entity],
               vocabulary: Vocabulary, problem: Report, warnings: list[str]) -> LinkTable:
    """Check the items of links.yaml (already schema-valid) against the corpus."""
    identifiers: list[ExternalLink] = []
    points: dict[str, Coordinates] = {}
    by_entity: dict[tuple[str, str], ExternalLink] = {}
    by_target: dict[str, ExternalLink] = {}
    linked_places: set[str] = set()
    for item in items:
        where = f"{shown}:{item.line}"
        entity = entities.get(item["entity"])
        if entity is None:
            close = difflib.get_close_matches(item["entity"], list(entities), n=3, cutoff=0.6)
            problem(where, f"'{item['entity']}' is not an entity of the corpus",
                    f"use {' or '.join(repr(c) for c in close)}" if close
                    else "link an entity declared in entities.yaml or a document's file")
            continue
        is_place = any(vocabulary.is_a(t, ("Location",)) for t in entity.types)
        if "kb" not in item:
            if not is_place:
                problem(where, f"'{entity.id}' is not a place, so it has no coordinates",
                        "give coordinates to places (Location and its subclasses) only")
            elif entity.id in points:
                problem(where, f"'{entity.id}' has coordinates already (at "
                        f"{points[entity.id].where})", "keep the one whose source you trust")
            else:
                points[entity.id] = Coordinates(entity.id, float(item["lat"]),
                                                float(item["long"]), item["source"], where)
            continue
        kb, identifier = item["kb"], str(item["id"]).strip()
        if not _FORMS[kb].fullmatch(identifier):
            problem(where, f"{identifier!r} is not {KNOWLEDGE_BASES[kb].form}",
                    f"write the {kb} identifier exactly as the source gives it")
            continue
        if kb == "geonames" and not is_place:
            problem(where, f"GeoNames describes places, and '{entity.id}' is not one",
                    "link places only to GeoNames; use Wikidata or DBpedia for the rest")
            continue
        link = ExternalLink(entity.id, kb, identifier, item["source"], where,
                            exact=item.get("match", "exact") == "exact")
        earlier = by_entity.get((entity.id, kb))
        if earlier is not None and link.exact and earlier.exact:
            problem(where, f"'{entity.id}' is linked to two {kb} identifiers ({earlier.id} at "
                    f"{earlier.where}, and {identifier})",
                    "an entity is one outside thing: keep the one the source supports")
            continue
        target = external_iri(kb, identifier)
        twin = by_target.get(target)
        if twin is not None and link.exact and twin.exact:
            problem(where, f"'{entity.id}' and '{twin.entity}' (at {twin.where}) are both "
                    f"owl:sameAs {target}, which would make them one",
                    "merge the two entities, or mark the looser one `match: close`")
            continue
        if link.exact:
            by_entity[(entity.id, kb)] = link
            by_target[target] = link
            if is_place:
                linked_places.add(entity.id)
        identifiers.append(link)
    for place in sorted(linked_places - set(points)):
        warnings.append(f"{shown}: the place '{place}' is linked but has no coordinates")
    return LinkTable(tuple(identifiers), tuple(points.values()))
