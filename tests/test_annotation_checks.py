"""Checks of the annotation loader for defects found in review, each with its message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kg.build import build, validate_corpus
from kg.errors import AnnotationError
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.store import ReadStore

CorpusOf = Callable[[dict[str, str]], Settings]
HEAD = "document: {id: mini, text: mini.txt, title: {start: 0, text: Strike on the base}}\n"
ANN = ("entities:\n  - {id: ann-example, type: Person, label: Ann Example}\n"
       "mentions:\n  - {entity: ann-example, start: 144, text: General Ann Example}\n")
FORCE = ("  - {id: rocket-force, type: ArmedForce, label: Westland Rocket Force}\n")
COMMANDS = ("evidence: {start: 144, text: \"General Ann Example, who commands the Westland "
            "Rocket Force\"}")
OFFICIALS = ("entities:\n  - {id: officials, type: Group, label: officials}\n",
             "mentions:\n  - {entity: officials, start: 128, text: officials}\n")


def _problems(settings: Settings) -> list[str]:
    with pytest.raises(AnnotationError) as caught:
        validate_corpus(settings)
    return [f"{p.where.rsplit('/', 1)[-1]}: {p.what} | {p.fix}" for p in caught.value.problems]


def test_a_duplicate_key_is_an_error_with_both_lines(corpus_of: CorpusOf) -> None:
    problems = _problems(corpus_of({"documents/mini.yaml": HEAD + ANN.replace(
        "label: Ann Example}", "label: Ann Example, label: Ann}")}))
    assert problems == ["mini.yaml:3: is not valid YAML: the key 'label' is given twice in one "
                        "mapping (first on line 3) | check indentation, colons and quotes around "
                        "this line"]


def test_a_fractional_offset_is_an_error_not_a_crash(corpus_of: CorpusOf) -> None:
    problems = _problems(corpus_of({"documents/mini.yaml": HEAD + ANN.replace(
        "start: 144", "start: 144.0")}))
    assert problems == ["mini.yaml:5: start 144.0 is not a whole number | write the offset as "
                        "digits, e.g. start: 42"]


def test_build_properties_are_refused(corpus_of: CorpusOf) -> None:
    problems = _problems(corpus_of({"documents/mini.yaml": HEAD + ANN + (
        "statements:\n  - {subject: mini, property: sha256, value: '0000', "
        "evidence: {start: 0, text: Strike on the base}}\n")}))
    assert problems[0].startswith("mini.yaml:7: 'sha256' is written by the build, not annotated")


@pytest.mark.parametrize(("value", "what"), [
    ("-3", "'numberKilled' cannot be -3: it counts from 0"),
    ("'٣'", "'numberKilled' needs a whole number, not '٣'"),
    ("three", "'numberKilled' needs a whole number, not 'three'"),
])
def test_counts_must_be_ascii_numbers_in_range(corpus_of: CorpusOf, value: str,
                                               what: str) -> None:
    problems = _problems(corpus_of({"documents/mini.yaml": HEAD + (
        "entities:\n  - {id: strike, type: MissileStrike, label: strike}\n"
        "mentions:\n  - {entity: strike, start: 63, text: fired two missiles}\n"
        "claims:\n  - {id: c, by: officials, evidence: {start: 128, text: officials said}}\n"
        f"statements:\n  - {{subject: strike, property: numberKilled, value: {value}, claim: c,"
        " evidence: {start: 108, text: killing 3 soldiers}}\n")
        .replace("entities:\n", OFFICIALS[0]).replace("mentions:\n", OFFICIALS[1])}))
    assert [p.split(": ", 1)[1].split(" | ")[0] for p in problems] == [what]


def test_a_claim_id_used_twice_or_shared_with_an_entity_is_an_error(corpus_of: CorpusOf) -> None:
    general = "evidence: {start: 144, text: General}}\n"
    claims = (f"claims:\n  - {{id: ann-example, by: ann-example, {general}"
              f"  - {{id: c, by: ann-example, {general}"
              f"  - {{id: c, by: ann-example, {general}")
    problems = _problems(corpus_of({"documents/mini.yaml": HEAD + ANN + claims}))
    assert len(problems) == 2
    assert problems[0].startswith("mini.yaml:7: claim id 'ann-example' is already the id of ")
    assert problems[0].endswith("mini.yaml:3 | give the claim its own id")
    assert problems[1].startswith("mini.yaml:9: claim id 'c' is used twice (first at ")
    assert problems[1].endswith("mini.yaml:8) | give each claim its own id")


def test_a_statement_cannot_belong_to_another_documents_claim(corpus_of: CorpusOf) -> None:
    other = (HEAD.replace("{id: mini,", "{id: other,") +
             "claims:\n  - {id: theirs, by: ann-example, evidence: {start: 144, text: General}}\n")
    mine = HEAD.replace("{id: mini,", "{id: mine,")
    mine += ANN.replace("entities:\n", "entities:\n" + FORCE) + (
        "  - {entity: rocket-force, start: 182, text: Westland Rocket Force}\n"
        f"statements:\n  - {{subject: ann-example, property: commands, object: rocket-force, "
        f"claim: theirs, {COMMANDS}}}\n")
    problems = _problems(corpus_of({"documents/a-mine.yaml": mine,
                                    "documents/b-other.yaml": other}))
    assert [p.split(" | ")[0] for p in problems] == [
        "a-mine.yaml:9: claim 'theirs' is not a claim of this document"]


def test_a_claimed_only_entity_must_not_be_described_as_fact(corpus_of: CorpusOf) -> None:
    text = HEAD + (
        "entities:\n  - {id: officials, type: Group, label: officials}\n"
        "  - {id: strike, type: MissileStrike, label: strike, claim: c}\n"
        "  - {id: camp, type: MilitaryBase, label: Camp North}\n"
        "mentions:\n  - {entity: officials, start: 128, text: officials}\n"
        "  - {entity: strike, start: 63, text: fired two missiles}\n"
        "  - {entity: camp, start: 85, text: Camp North}\n"
        "claims:\n  - {id: c, by: officials, evidence: {start: 63, text: fired two missiles}}\n"
        "statements:\n  - {subject: strike, property: hasTarget, object: camp,"
        " evidence: {start: 63, text: fired two missiles at Camp North}}\n")
    problems = _problems(corpus_of({"documents/mini.yaml": text}))
    assert [p.split(" | ")[0] for p in problems] == [
        "mini.yaml:13: 'strike' is known only through claim 'c', but this statement about it "
        "is not a claim"]


def test_a_claimed_only_entity_is_typed_only_under_its_claim(corpus_of: CorpusOf) -> None:
    text = HEAD + (
        "entities:\n  - {id: officials, type: Group, label: officials}\n"
        "  - {id: strike, type: MissileStrike, label: strike, claim: c}\n"
        "mentions:\n  - {entity: officials, start: 128, text: officials}\n"
        "  - {entity: strike, start: 63, text: fired two missiles}\n"
        "claims:\n  - {id: c, by: officials, evidence: {start: 63, text: fired two missiles}}\n")
    settings = corpus_of({"documents/mini.yaml": text})
    build(settings)
    store = ReadStore.open_current(settings.store_dir)
    prefixes = Namespaces().prefixes()
    assert not store.query("ASK { res:strike a ?type }", prefixes=prefixes)
    assert store.query("ASK { res:c ckg:claims [ rdf:subject res:strike ; rdf:predicate rdf:type ;"
                       " rdf:object ckg:MissileStrike ; ckg:evidence [] ] }", prefixes=prefixes)


def test_a_claimed_role_is_not_a_stated_participation(corpus_of: CorpusOf) -> None:
    text = HEAD + (
        "entities:\n  - {id: officials, type: Group, label: officials}\n"
        "  - {id: strike, type: MissileStrike, label: strike}\n"
        "  - {id: westland, type: State, label: Republic of Westland}\n"
        "mentions:\n  - {entity: officials, start: 128, text: officials}\n"
        "  - {entity: strike, start: 63, text: fired two missiles}\n"
        "  - {entity: westland, start: 42, text: Republic of Westland}\n"
        "claims:\n  - {id: c, by: officials, evidence: {start: 42, text: Republic of Westland}}\n"
        "statements:\n  - {subject: strike, property: hasParticipant, object: westland, role: Host,"
        " claim: c, evidence: {start: 42, text: Republic of Westland fired two missiles}}\n")
    settings = corpus_of({"documents/mini.yaml": text})
    build(settings)
    store = ReadStore.open_current(settings.store_dir)
    prefixes = Namespaces().prefixes()
    assert not store.query("ASK { ?p a ckg:Participation }", prefixes=prefixes)
    assert not store.query("ASK { res:strike ckg:hasParticipant|ckg:hasParticipation ?x }",
                           prefixes=prefixes)
    assert store.query("ASK { res:c ckg:claims [ rdf:predicate ckg:hasParticipant ; "
                       "ckg:inRole ckg:Host ] }", prefixes=prefixes)


def test_windows_line_ends_are_named_when_offsets_miss(corpus_of: CorpusOf) -> None:
    settings = corpus_of({"documents/mini.yaml": HEAD + ANN})
    text_file = settings.corpus_dir / "documents" / "mini.txt"
    text_file.write_bytes(text_file.read_bytes().replace(b"\n", b"\r\n"))
    problems = _problems(settings)
    assert problems[0].endswith("note: the text has Windows line ends (\\r\\n): each counts as "
                                "two characters")


def test_a_corpus_without_documents_says_so(corpus_of: CorpusOf) -> None:
    problems = _problems(corpus_of({}))
    assert problems == ["inline-corpus: there are no annotated documents (documents/*.yaml) | "
                        "annotate a document: put <name>.txt and <name>.yaml in documents/"]


def test_a_build_only_class_is_not_an_entity_type(corpus_of: CorpusOf) -> None:
    problems = _problems(corpus_of({"documents/mini.yaml": HEAD + ANN.replace(
        "type: Person", "type: TimeSpan")}))
    assert problems[0].split(" | ")[0] == \
        "mini.yaml:3: type 'TimeSpan' is made by the build, not declared"


def test_a_missing_text_file_is_one_problem_without_noise(corpus_of: CorpusOf) -> None:
    problems = _problems(corpus_of({
        "entities.yaml": "entities:\n  - {id: ann-example, type: Person, label: Ann Example}\n",
        "documents/mini.yaml": HEAD.replace("text: mini.txt", "text: missing.txt")}))
    assert len(problems) == 1
    assert problems[0].startswith("mini.yaml:1: text file missing.txt not found beside the "
                                  "annotation | put missing.txt in ")
