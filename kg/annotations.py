"""Reading and validating the annotated corpus.

`load_corpus` reads `entities.yaml` and `documents/*.yaml` from a corpus folder, checks them against
the JSON Schema, the ontology and the documents' own text, and returns a `Corpus`, or raises one
`AnnotationError` that lists every problem found, each with file:line, what is wrong and the fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from kg.corpus import Claim, Corpus, DocumentAnnotation, Entity, Mention, Quote, Statement
from kg.edtf import EdtfError, parse_edtf
from kg.errors import AnnotationError, Problem
from kg.links import LinkTable, read_links
from kg.vocabulary import Vocabulary

__all__ = ["ENTITIES_FILE", "LINKS_FILE", "annotation_schema", "load_corpus"]

ENTITIES_FILE = "entities.yaml"
LINKS_FILE = "links.yaml"

#: Properties the build writes itself; annotators express them through other fields.
BUILD_PROPERTIES = frozenset({
    "evidence", "claims", "claimText", "claimedBy", "claimSource", "about", "hasParticipation",
    "participant", "role", "inRole", "positionTitle", "isEstimate", "note", "sha256", "edtf",
    "earliest", "latest", "precision", "earliestDate", "latestDate", "datePrecision",
})
#: Classes of nodes the build makes; an annotated entity is never one of these.
BUILD_CLASSES = frozenset({"SourceDocument", "Claim", "TimeSpan", "Participation",
                           "ParticipantRole", "DatePrecision"})
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {_XSD + t for t in ("integer", "nonNegativeInteger", "positiveInteger")}


def annotation_schema(name: str = "annotation") -> dict[str, Any]:
    """The JSON Schema of annotation files (or of `links.yaml`, by name)."""
    text = resources.files("kg").joinpath(f"schema/{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# --- YAML with line numbers ---------------------------------------------------------------------


class _Map(dict[str, Any]):
    line = 0
    key_lines: dict[str, int]


class _Seq(list[Any]):
    line = 0


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers lines, and leaves dates as the strings the annotator wrote."""


# EDTF dates must stay strings: drop YAML's implicit timestamp (2020-01-03 -> datetime.date).
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    mapping = _Map()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain name, not a list or a mapping",
                key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice in one mapping (first on line "
                f"{mapping.key_lines[key]})", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    sequence = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    sequence.line = node.start_mark.line + 1
    return sequence


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _line_of(root: Any, path: Iterable[Any]) -> int:
    """The line of the deepest node on `path` that knows its line."""
    node, line = root, getattr(root, "line", 1)
    for key in path:
        if isinstance(node, _Map) and key in node.key_lines:
            line = node.key_lines[key]
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return line


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- The loader ---------------------------------------------------------------------------------


@dataclass
class _Reader:
    """Collects records and problems across every file of a corpus."""

    vocabulary: Vocabulary
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    claim_ids: dict[str, str] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    documents: list[DocumentAnnotation] = field(default_factory=list)

    def problem(self, where: str, what: str, fix: str = "") -> None:
        self.problems.append(Problem(where, what, fix))

    # -- files -----------------------------------------------------------------------------------

    def read_yaml(self, path: Path, schema: str = "annotation") -> _Map | None:
        shown = _display(path)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
        except UnicodeDecodeError as error:
            self.problem(shown, f"is not UTF-8 text ({error.reason} at byte {error.start})",
                         "save the file as UTF-8")
            return None
        except yaml.MarkedYAMLError as error:
            line = error.problem_mark.line + 1 if error.problem_mark else 1
            self.problem(f"{shown}:{line}", f"is not valid YAML: {error.problem}",
                         "check indentation, colons and quotes around this line")
            return None
        if data is None:
            data = _Map()
            data.key_lines = {}
        if not isinstance(data, _Map):
            self.problem(f"{shown}:1", "must be a mapping with document, entities, mentions, "
                         "claims and statements", "see the annotation format in the README")
            return None
        validator = jsonschema.Draft202012Validator(annotation_schema(schema))
        failures = sorted(validator.iter_errors(data),
                          key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p))
                                         for p in e.absolute_path])
        for failure in failures:
            location = "/".join(str(p) for p in failure.absolute_path) or "(top level)"
            self.problem(f"{shown}:{_line_of(data, failure.absolute_path)}",
                         f"{location}: {_schema_message(failure)}",
                         f"see the README's annotation format and kg/schema/{schema}.schema.json")
        return None if failures else data

    def declare(self, path: Path, data: _Map) -> None:
        for item in data.get("entities", []):
            where = f"{_display(path)}:{item.line}"
            identifier = item["id"]
            if identifier in self.entities:
                self.problem(where, f"entity id '{identifier}' is declared twice (first at "
                             f"{self.entities[identifier].where})",
                             "declare each entity once in the corpus; refer to it by id elsewhere")
                continue
            types = item["type"] if isinstance(item["type"], list) else [item["type"]]
            for type_name in types:
                if type_name in BUILD_CLASSES:
                    self.problem(where, f"type '{type_name}' is made by the build, not declared",
                                 "claims go under `claims:`; dates and roles are statement values")
                elif type_name not in self.vocabulary.classes:
                    self.problem(where, f"type '{type_name}' of entity '{identifier}' is not a "
                                 "class of the ontology",
                                 _suggest(type_name, self.vocabulary.classes))
            self.entities[identifier] = Entity(
                id=identifier, types=tuple(types), label=item["label"], where=where,
                aliases=tuple(item.get("aliases", ())), claim=item.get("claim"),
            )

    def read_document(self, path: Path, data: _Map) -> bool:
        """Read one document's annotations; False if its text could not be read at all."""
        shown = _display(path)
        header = data["document"]
        doc_id = header["id"]
        text_path = path.parent / header["text"]
        where = f"{shown}:{header.line}"
        try:
            # Decode the bytes ourselves: universal-newline reading would shift offsets.
            text = text_path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            self.problem(where, f"text file {header['text']} not found beside the annotation",
                         f"put {header['text']} in {_display(path.parent)}, or correct `text`")
            return False
        except UnicodeDecodeError as error:
            self.problem(where, f"{header['text']} is not UTF-8 (byte {error.start})",
                         "convert the text file to UTF-8")
            return False
        if doc_id in self.entities:
            kind = "a document" if "SourceDocument" in self.entities[doc_id].types else "an entity"
            self.problem(where, f"document id '{doc_id}' is already the id of {kind} "
                         f"({self.entities[doc_id].where})", "give the document another id")
            return False
        def quote(item: _Map) -> Quote:
            return self.quote(doc_id, text, shown, item)

        title = quote(header["title"])
        self.entities[doc_id] = Entity(doc_id, ("SourceDocument",), header["title"]["text"], where)
        statements = [Statement(doc_id, "title", (title,), where, value=header["title"]["text"])]
        mentions = [Mention(m["entity"], quote(m)) for m in data.get("mentions", [])]
        claims = [
            Claim(id=c["id"], by=c["by"], evidence=self.evidence(doc_id, text, shown, c),
                  where=f"{shown}:{c.line}", about=tuple(c.get("about", ())),
                  source=c.get("source"))
            for c in data.get("claims", [])
        ]
        for claim in claims:
            if claim.id in self.entities:
                self.problem(claim.where, f"claim id '{claim.id}' is already the id of "
                             f"{self.entities[claim.id].where}", "give the claim its own id")
            elif claim.id in self.claim_ids:
                self.problem(claim.where, f"claim id '{claim.id}' is used twice (first at "
                             f"{self.claim_ids[claim.id]})", "give each claim its own id")
            else:
                self.claim_ids[claim.id] = claim.where
        for item in data.get("statements", []):
            statements.append(Statement(
                subject=item["subject"], property=item["property"],
                evidence=self.evidence(doc_id, text, shown, item), where=f"{shown}:{item.line}",
                object=item.get("object"),
                value=None if "value" not in item else _literal_text(item["value"]),
                role=item.get("role"), estimate=item.get("estimate", False),
                position=item.get("position"), note=item.get("note"), claim=item.get("claim"),
            ))
        self.documents.append(DocumentAnnotation(
            id=doc_id, text_path=text_path, text=text, annotation_path=path,
            label=header["title"]["text"], mentions=tuple(mentions),
            statements=tuple(statements), claims=tuple(claims),
        ))
        return True

    def evidence(self, doc_id: str, text: str, shown: str, item: _Map) -> tuple[Quote, ...]:
        raw = item["evidence"]
        quotes = raw if isinstance(raw, list) else [raw]
        return tuple(self.quote(doc_id, text, shown, q) for q in quotes)

    def quote(self, doc_id: str, text: str, shown: str, item: _Map) -> Quote:
        """Record a quote, checking it against the document's text."""
        start = item["start"]
        if not isinstance(start, int) or isinstance(start, bool):
            # JSON Schema counts 42.0 as an integer; a slice does not.
            self.problem(f"{shown}:{item.line}", f"start {start!r} is not a whole number",
                         "write the offset as digits, e.g. start: 42")
            return Quote(doc_id, 0, item["text"], f"{shown}:{item.line}")
        result = Quote(doc_id, start, item["text"], f"{shown}:{item.line}")
        if "end" in item and item["end"] != result.end:
            self.problem(result.where, f"end {item['end']} does not fit the quote "
                         f"{_short(result.text)} starting at {result.start}",
                         f"set end: {result.end}, or drop `end`")
        found = text[result.start : result.end]
        if found != result.text:
            self.problem(result.where, _mismatch(text, result, found),
                         _relocate(text, result) + _encoding_hint(text))
        return result

    # -- cross-checks ----------------------------------------------------------------------------

    def check(self) -> None:
        mentioned = {m.entity for d in self.documents for m in d.mentions}
        mentioned |= {d.id for d in self.documents}
        for doc in self.documents:
            claims = {c.id for c in doc.claims}
            here = {m.entity for m in doc.mentions} | {doc.id}
            for mention in doc.mentions:
                self.reference(mention.quote.where, mention.entity, "mention")
            for claim in doc.claims:
                self.check_claim(claim)
            for statement in doc.statements:
                if statement.claim is not None and statement.claim not in claims:
                    self.problem(statement.where, f"claim '{statement.claim}' is not a claim of "
                                 "this document", "a statement can only belong to a claim its "
                                 "own document makes; " + _suggest(statement.claim, claims,
                                                                    "declare the claim here"))
                self.check_statement(statement)
                self.check_claimed_only(statement)
                for ref in (statement.subject, statement.object):
                    if ref is not None and ref in self.entities and ref not in here:
                        self.warnings.append(f"{statement.where}: '{ref}' is not mentioned in "
                                             "this document; its type and label come from the "
                                             "documents that mention it")
        for entity in self.entities.values():
            if entity.claim is not None and not any(
                    entity.claim in {c.id for c in d.claims}
                    and entity.id in {m.entity for m in d.mentions} for d in self.documents):
                self.problem(entity.where, f"'{entity.id}' is known only through claim "
                             f"'{entity.claim}', but no document both makes that claim and "
                             "mentions it", "mention the entity in the claim's document, or "
                             "correct `claim`")
        aliases_seen = {m.quote.text for d in self.documents for m in d.mentions}
        mention_texts = {e: [m.quote.text.casefold() for d in self.documents for m in d.mentions
                             if m.entity == e] for e in self.entities}
        for entity in self.entities.values():
            named = self._is_a(entity, ("Actor", "Location"))
            label = entity.label.casefold()
            if named and not any(label in text for text in mention_texts[entity.id]):
                self.warnings.append(f"{entity.where}: the label {entity.label!r} of "
                                     f"'{entity.id}' occurs in none of its mentions")
        for entity in self.entities.values():
            if entity.id not in mentioned:
                self.problem(entity.where, f"entity '{entity.id}' is declared but never "
                             "mentioned", "add a mention of it in a document, or remove it")
            for alias in entity.aliases:
                if alias not in aliases_seen:
                    self.problem(entity.where, f"alias {alias!r} of '{entity.id}' is not the "
                                 "text of any mention", "annotate a mention with that exact text, "
                                 "or remove the alias")

    def check_claimed_only(self, st: Statement) -> None:
        for ref in (st.subject, st.object):
            entity = self.entities.get(ref) if ref else None
            if entity is not None and entity.claim is not None and st.claim is None:
                self.problem(st.where, f"'{entity.id}' is known only through claim "
                             f"'{entity.claim}', but this statement about it is not a claim",
                             f"add claim: {entity.claim} (or another claim), or drop the "
                             "entity's claim if the document itself states that it exists")

    def reference(self, where: str, identifier: str, role: str) -> Entity | None:
        entity = self.entities.get(identifier)
        if entity is None:
            self.problem(where, f"{role} refers to '{identifier}', which is not a declared entity",
                         "declare it under `entities:` (here or in entities.yaml), or "
                         + _suggest(identifier, self.entities, "correct the id"))
        return entity

    def check_claim(self, claim: Claim) -> None:
        by = self.reference(claim.where, claim.by, "claim `by`")
        if by is not None and not self._is_a(by, ("Actor",)):
            self.problem(claim.where, f"claim '{claim.id}' is made by '{by.id}', a {_types(by)}, "
                         "which is not an Actor", "name the person, organization or group who "
                         "makes the claim")
        for about in claim.about:
            self.reference(claim.where, about, "claim `about`")
        if claim.source is not None:
            source = self.reference(claim.where, claim.source, "claim `source`")
            if source is not None and not self._is_a(source, ("Document",)):
                self.problem(claim.where, f"claim source '{source.id}' is a {_types(source)}, not "
                             "a Document", "point `source` at the cited work")

    def check_statement(self, st: Statement) -> None:
        vocabulary = self.vocabulary
        term = vocabulary.properties.get(st.property)
        if term is None:
            self.problem(st.where, f"property '{st.property}' is not a property of the ontology",
                         _suggest(st.property, vocabulary.properties))
            return
        if st.property in BUILD_PROPERTIES:
            self.problem(st.where, f"'{st.property}' is written by the build, not annotated",
                         "use the statement's fields (claim, estimate, position, role, note) or "
                         "a claim's (by, about, source); dates go in value: of `date`")
            return
        subject = self.reference(st.where, st.subject, "statement subject")
        domain = vocabulary.domain_of(st.property)
        if subject is not None and domain and not self._is_a(subject, domain):
            self.problem(st.where, f"'{st.property}' applies to {_either(domain)}, but "
                         f"'{subject.id}' is a {_types(subject)}",
                         "use another property, or correct the subject or its type")
        range_ = vocabulary.range_of(st.property)
        if st.role is not None:
            if st.property != "hasParticipant":
                self.problem(st.where, "`role` is only for hasParticipant",
                             "use property: hasParticipant, or drop `role`")
            elif vocabulary.individuals.get(st.role) != "ParticipantRole":
                roles = [n for n, c in vocabulary.individuals.items() if c == "ParticipantRole"]
                self.problem(st.where, f"role '{st.role}' is not a ParticipantRole",
                             _suggest(st.role, roles))
        if range_ == ("TimeSpan",):
            self.check_date(st)
        elif term.is_object:
            if st.object is None:
                self.problem(st.where, f"'{st.property}' links to an entity but the statement "
                             "has no `object`", "give `object: <entity id>`")
                return
            obj = self.reference(st.where, st.object, "statement object")
            if obj is not None and range_ and not self._is_a(obj, range_):
                self.problem(st.where, f"'{st.property}' links to {_either(range_)}, but "
                             f"'{obj.id}' is a {_types(obj)}",
                             "use another property, or correct the object or its type")
        else:
            self.check_value(st, range_)

    def _is_a(self, entity: Entity, classes: tuple[str, ...]) -> bool:
        return any(self.vocabulary.is_a(t, classes) for t in entity.types)

    def check_date(self, st: Statement) -> None:
        if st.value is None:
            self.problem(st.where, f"'{st.property}' needs `value:` with an EDTF date",
                         "for example value: 2020-01-03, 2020-01, 2019 or 2019-05/..")
            return
        try:
            parse_edtf(st.value)
        except EdtfError as error:
            self.problem(st.where, f"date {st.value!r} cannot be read: {error}",
                         "write YYYY-MM-DD, YYYY-MM, YYYY, XXXX-MM-DD, or A/B with '..' open")

    def check_value(self, st: Statement, range_: tuple[str, ...]) -> None:
        if st.object is not None:
            self.problem(st.where, f"'{st.property}' takes a literal `value`, not an `object`",
                         "write value: instead of object:")
            return
        if st.value is None:
            if range_ in ((), (_XSD + "string",)):
                return  # the value is the quote itself
            self.problem(st.where, f"'{st.property}' needs a `value`", "add value: ...")
            return
        datatype = range_[0] if range_ else ""
        if datatype in _INTEGER_TYPES:
            if not _ASCII_INTEGER.fullmatch(st.value):
                self.problem(st.where, f"'{st.property}' needs a whole number, not "
                             f"{st.value!r}", "write the number as digits, e.g. value: 176")
            elif int(st.value) < (1 if datatype.endswith("positiveInteger") else 0) and \
                    datatype != _XSD + "integer":
                self.problem(st.where, f"'{st.property}' cannot be {st.value}: it counts "
                             f"{'from 1' if datatype.endswith('positiveInteger') else 'from 0'}",
                             "correct the number")
        if datatype == _XSD + "boolean" and st.value not in ("true", "false"):
            self.problem(st.where, f"'{st.property}' needs true or false, not {st.value!r}",
                         "write value: true or value: false")


# --- messages -----------------------------------------------------------------------------------


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and error.context and "statement" not in str(error.schema):
        # "is not valid under any of the given schemas" names nothing: say what the closest
        # alternative objects to instead.
        error = jsonschema.exceptions.best_match(error.context)
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field")
    if error.validator == "oneOf" and error.schema_path and "statement" in str(error.schema):
        return "a statement has either `object` (an entity id) or `value` (a literal), not both"
    return error.message


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _mismatch(text: str, quote: Quote, found: str) -> str:
    if quote.start >= len(text):
        return (f"quote {_short(quote.text)} starts at {quote.start}, past the end of the "
                f"document ({len(text)} characters)")
    return (f"quote {_short(quote.text)} does not match the document at {quote.start}: the text "
            f"there is {_short(found)}")


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line}"


def _relocate(text: str, quote: Quote) -> str:
    hits = list(_occurrences(text, quote.text))
    if not hits:
        return ("the quote occurs nowhere in the document: copy it exactly from the text "
                "(curly quotes and apostrophes included)")
    nearest = min(hits, key=lambda h: abs(h - quote.start))
    others = "" if len(hits) == 1 else f" (it occurs {len(hits)} times; this is the nearest)"
    return f"set start: {nearest} ({_line_col(text, nearest)} of the text){others}"


def _encoding_hint(text: str) -> str:
    if text.startswith("\ufeff"):
        return ("; note: the text starts with a byte-order mark, which counts as one character "
                "at offset 0")
    if "\r" in text:
        return "; note: the text has Windows line ends (\\r\\n): each counts as two characters"
    return ""


def _occurrences(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at != -1:
        yield at
        at = text.find(needle, at + 1)


def _suggest(name: str, known: Iterable[str],
             otherwise: str = "see the README for the list") -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f"use {' or '.join(repr(c) for c in close)}" if close else otherwise


def _either(names: tuple[str, ...]) -> str:
    return " or ".join(names) if len(names) > 1 else names[0]


def _types(entity: Entity) -> str:
    return " and ".join(entity.types)


def _literal_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


# --- entry point --------------------------------------------------------------------------------


def load_corpus(corpus_dir: Path, vocabulary: Vocabulary) -> Corpus:
    """Read and validate a corpus folder; raise AnnotationError listing every problem."""
    reader = _Reader(vocabulary)
    documents_dir = corpus_dir / "documents"
    if not documents_dir.is_dir():
        raise AnnotationError(f"{_display(corpus_dir)} has no documents/ folder",
                              (Problem(_display(corpus_dir), "no documents/ folder",
                                       "put <name>.txt and <name>.yaml files in documents/"),))
    files: list[tuple[Path, _Map]] = []
    dropped = False
    shared = corpus_dir / ENTITIES_FILE
    paths = ([shared] if shared.exists() else []) + sorted(documents_dir.glob("*.yaml"))
    for path in paths:
        data = reader.read_yaml(path)
        if data is None:
            dropped = True
            continue
        if path != shared and "document" not in data:
            reader.problem(f"{_display(path)}:1", "has no `document:` header",
                           "add document: {id, text, title} naming the text it annotates")
            continue
        if path == shared and set(data) - {"entities"}:
            reader.problem(f"{_display(path)}:1", f"{ENTITIES_FILE} may only declare entities",
                           "move mentions, claims and statements to a document's file")
            continue
        files.append((path, data))
    for path, data in files:
        reader.declare(path, data)
    for path, data in files:
        if "document" in data and not reader.read_document(path, data):
            dropped = True
    if not dropped and not reader.problems and not reader.documents:
        reader.problem(_display(corpus_dir), "there are no annotated documents (documents/*.yaml)",
                       "annotate a document: put <name>.txt and <name>.yaml in documents/")
    if not dropped:  # cross-checks on half a corpus would only report noise
        reader.check()
    links_path = corpus_dir / LINKS_FILE
    links: LinkTable = LinkTable()
    if links_path.exists() and not dropped:
        data = reader.read_yaml(links_path, schema="links")
        if data is not None:
            links = read_links(data.get("links", []), _display(links_path), reader.entities,
                               vocabulary, reader.problem, reader.warnings)
    if reader.problems:
        count = len(reader.problems)
        raise AnnotationError(
            f"the corpus has {count} problem{'s' if count != 1 else ''}", tuple(reader.problems)
        )
    return Corpus(tuple(reader.documents), dict(reader.entities), tuple(reader.warnings),
                  links.identifiers, links.coordinates)
