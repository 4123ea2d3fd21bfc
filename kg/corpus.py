"""The annotated corpus as records: documents, entities, mentions, statements and claims.

Records carry `where` (file:line) so every later check can point at the annotation to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Claim",
    "Coordinates",
    "Corpus",
    "DocumentAnnotation",
    "Entity",
    "ExternalLink",
    "Mention",
    "Quote",
    "Statement",
]


@dataclass(frozen=True)
class Quote:
    """An exact span of a document's text: code point offsets, end exclusive."""

    document: str
    start: int
    text: str
    where: str

    @property
    def end(self) -> int:
        """Offset just past the quote."""
        return self.start + len(self.text)


@dataclass(frozen=True)
class Entity:
    """Anything with an id: an actor, place, event, agreement, cited work, weapon or vehicle."""

    id: str
    types: tuple[str, ...]
    label: str
    where: str
    aliases: tuple[str, ...] = ()
    claim: str | None = None  # known only through this claim: its existence is not asserted


@dataclass(frozen=True)
class Mention:
    """A place where the text refers to an entity (coreference: many mentions, one entity)."""

    entity: str
    quote: Quote


@dataclass(frozen=True)
class Statement:
    """One fact a document states (or, with `claim`, attributes to someone), with its evidence."""

    subject: str
    property: str
    evidence: tuple[Quote, ...]
    where: str
    object: str | None = None  # an entity id, for object properties
    value: str | None = None  # a literal, for datatype properties and dates
    role: str | None = None  # for `participant`: a ParticipantRole
    estimate: bool = False
    position: str | None = None  # positionTitle, in the document's words
    note: str | None = None
    claim: str | None = None  # the claim that makes this statement


@dataclass(frozen=True)
class Claim:
    """Something the document attributes to someone rather than states itself."""

    id: str
    by: str
    evidence: tuple[Quote, ...]
    where: str
    about: tuple[str, ...] = ()
    source: str | None = None


@dataclass(frozen=True)
class DocumentAnnotation:
    """One source document: its text and everything annotated on it."""

    id: str
    text_path: Path
    text: str
    annotation_path: Path
    label: str = ""
    mentions: tuple[Mention, ...] = ()
    statements: tuple[Statement, ...] = ()
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class ExternalLink:
    """An entity's identifier in an outside knowledge base, and where it was verified."""

    entity: str
    kb: str  # wikidata, dbpedia or geonames
    id: str  # Q-id, English Wikipedia title, or GeoNames id
    source: str
    where: str
    exact: bool = True  # owl:sameAs; False for skos:closeMatch


@dataclass(frozen=True)
class Coordinates:
    """A place's WGS84 point, and where it was verified."""

    entity: str
    lat: float
    long: float
    source: str
    where: str


@dataclass(frozen=True)
class Corpus:
    """Every document and every entity, keyed by id."""

    documents: tuple[DocumentAnnotation, ...]
    entities: dict[str, Entity] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()  # worth a look, but not wrong
    links: tuple[ExternalLink, ...] = ()
    coordinates: tuple[Coordinates, ...] = ()

    def document(self, identifier: str) -> DocumentAnnotation:
        """The document with this id."""
        return next(d for d in self.documents if d.id == identifier)
