"""Each bad fixture holds one defect; each test asserts the message a user would read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kg.annotations import load_corpus
from kg.build import validate_corpus
from kg.errors import AnnotationError, InconsistentGraph, KGError, ShapeViolation
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.vocabulary import Vocabulary

BadCorpus = Callable[[str], Settings]


def _error(settings: Settings, kind: type[KGError] = AnnotationError) -> str:
    with pytest.raises(kind) as caught:
        validate_corpus(settings)
    # Paths are shown relative to the working directory when they can be; here they cannot.
    return str(caught.value).replace(f"{settings.corpus_dir}/", "")


def test_bad_offset_names_the_text_there_and_the_right_start(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-offset.yaml"))
    assert "documents/mini.yaml:6: quote 'General Ann Example' does not match the document at " \
           "140: the text there is 'id. General Ann Exa'" in message
    assert "fix: set start: 144 (line 3 of the text)" in message


def test_bad_unknown_type_suggests_the_class(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-unknown-type.yaml"))
    assert "mini.yaml:4: type 'Persn' of entity 'ann-example' is not a class of the ontology" \
        in message
    assert "fix: use 'Person'" in message


def test_bad_unknown_property_suggests_the_property(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-unknown-property.yaml"))
    assert "mini.yaml:10: property 'comands' is not a property of the ontology" in message
    assert "fix: use 'commands'" in message


def test_bad_dangling_reference_says_how_to_declare(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-dangling-reference.yaml"))
    assert "mini.yaml:8: statement object refers to 'rocket-forces', which is not a declared " \
           "entity" in message
    assert "fix: declare it under `entities:` (here or in entities.yaml), or correct the id" \
        in message


def test_bad_date_explains_why(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-date.yaml"))
    assert "mini.yaml:8: date '2020-13-03' cannot be read: '2020-13-03' is not a real date" \
        in message
    assert "fix: write YYYY-MM-DD, YYYY-MM, YYYY, XXXX-MM-DD" in message


def test_bad_unknown_field_names_the_field(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-unknown-field.yaml"))
    assert "mini.yaml:6: mentions/0: unknown field ('entiy' was unexpected)" in message


def test_bad_yaml_points_at_the_line(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-yaml.yaml"))
    assert "mini.yaml:5: is not valid YAML: expected ',' or '}', but got ':'" in message


def test_bad_domain_names_property_and_types(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-domain.yaml"))
    assert "mini.yaml:10: 'commands' applies to Person, but 'camp-north' is a MilitaryBase" \
        in message


def test_bad_contradicting_dates_cite_both(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-contradicting-dates.yaml"))
    assert "the dates of 'strike' contradict each other: 2020-01-03 at documents/mini.yaml:8; " \
           "2020-02 at documents/mini.yaml:9" in message


def test_person_typed_as_city_is_caught_by_disjointness(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-person-as-location.yaml"), InconsistentGraph)
    assert message.startswith("HermiT finds the ontology and the data inconsistent")
    assert "mini.yaml:4: 'ann-example' cannot be all of: City, Person. City is a kind of " \
           "Location, Person is a kind of Actor, and the ontology declares Location and Actor " \
           "disjoint." in message


def test_cited_work_without_title_breaks_a_shape(bad_corpus: BadCorpus) -> None:
    message = _error(bad_corpus("bad-cited-work-without-title.yaml"), ShapeViolation)
    assert "the graph breaks 1 SHACL constraint" in message
    assert "mini.yaml:4: 'what officials said' (https://w3id.org/crisiskg/resource/" \
           "officials-report): a cited work needs its title" in message


def test_every_problem_is_reported_at_once(bad_corpus: BadCorpus) -> None:
    with pytest.raises(AnnotationError) as error:
        validate_corpus(bad_corpus("bad-unknown-field.yaml"))
    assert len(error.value.problems) == 2


def test_mini_corpus_loads_with_exact_offsets(mini_settings: Settings) -> None:
    corpus = load_corpus(mini_settings.corpus_dir, Vocabulary.load(Namespaces()))
    document = corpus.document("mini")
    for mention in document.mentions:
        assert document.text[mention.quote.start : mention.quote.end] == mention.quote.text
    assert corpus.entities["ann-example"].types == ("Person",)


def test_a_label_no_mention_supports_is_a_warning_not_an_error(mini_settings: Settings) -> None:
    doc = mini_settings.corpus_dir / "documents" / "mini.yaml"
    doc.write_text(doc.read_text().replace("label: Ann Example", "label: Ann Sample"))
    report = validate_corpus(mini_settings)
    assert [w.split(": ", 1)[1] for w in report.warnings] == [
        "the label 'Ann Sample' of 'ann-example' occurs in none of its mentions"]
    assert "warning: " in report.summary()
