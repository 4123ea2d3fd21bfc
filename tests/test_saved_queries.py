"""Saved queries as files: grlc headers, typed parameters, validation, safe binding."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import ParameterError
from kg.namespaces import Namespaces
from kg.saved_queries import SavedQuery, load_catalog
from kg.settings import Settings

PREFIXES = Namespaces().prefixes()
HEAD = "PREFIX ex: <http://example.org/>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"


def _catalog(tmp_path: Path, **files: str) -> tuple[dict[str, SavedQuery], list[str]]:
    for name, text in files.items():
        (tmp_path / f"{name}.rq").write_text(text, encoding="utf-8")
    catalog = load_catalog(tmp_path)
    return catalog.queries, [str(p) for p in catalog.problems]


def _one(tmp_path: Path, text: str) -> SavedQuery:
    queries, problems = _catalog(tmp_path, q=text)
    assert not problems, problems
    return queries["q"]


def test_the_packaged_folder_holds_25_valid_queries() -> None:
    catalog = load_catalog(Settings().queries_dir)
    assert not catalog.problems, [str(p) for p in catalog.problems]
    assert len(catalog.queries) == 25
    for saved in catalog.queries.values():
        assert saved.summary and saved.description and saved.tags, saved.name


def test_grlc_headers_and_parameters_are_read(tmp_path: Path) -> None:
    saved = _one(tmp_path, "#+ summary: Things of a kind\n#+ description: >\n"
                 "#+   Long text\n#+   on two lines.\n#+ tags:\n#+   - things\n#+   - kinds\n"
                 "#+ defaults:\n#+   - kind: http://example.org/A\n#+ enumerate:\n"
                 "#+   - kind:\n#+     - http://example.org/A\n#+     - http://example.org/B\n"
                 + HEAD + "SELECT * WHERE { ?thing a ?_kind_iri ; ex:size ?__size_integer }")
    assert saved.summary == "Things of a kind"
    assert saved.description == "Long text on two lines."
    assert saved.tags == ("things", "kinds")
    assert saved.form == "SELECT" and saved.grlc_compatible
    kind, size = saved.parameters
    assert (kind.name, kind.type, kind.required, kind.default) == \
        ("kind", "iri", True, "http://example.org/A")
    assert kind.choices == ("http://example.org/A", "http://example.org/B")
    assert (size.name, size.type, size.required) == ("size", "integer", False)


@pytest.mark.parametrize(("variable", "value", "term"), [
    ("?_who_iri", "res:iran", ox.NamedNode("https://w3id.org/crisiskg/resource/iran")),
    ("?_who_iri", "http://example.org/x", ox.NamedNode("http://example.org/x")),
    ("?_name", "Qaani", ox.Literal("Qaani")),
    ("?_name_literal", "Qaani", ox.Literal("Qaani")),
    ("?_name_en", "Quds Force", ox.Literal("Quds Force", language="en")),
    ("?_n_integer", " 07 ", ox.Literal("7", datatype=ox.NamedNode(PREFIXES["xsd"] + "integer"))),
    ("?_n_number", "2.50", ox.Literal("2.50", datatype=ox.NamedNode(PREFIXES["xsd"] + "decimal"))),
    ("?_d_xsd_date", "2020-01-03",
     ox.Literal("2020-01-03", datatype=ox.NamedNode(PREFIXES["xsd"] + "date"))),
    ("?_y_xsd_gYear", "2019", ox.Literal("2019", datatype=ox.NamedNode(PREFIXES["xsd"] + "gYear"))),
])
def test_values_become_terms_of_their_type(tmp_path: Path, variable: str, value: str,
                                           term: ox.NamedNode | ox.Literal) -> None:
    saved = _one(tmp_path, f"#+ summary: s\n{HEAD}SELECT * WHERE {{ ?s ex:p {variable} }}")
    (parameter,) = saved.parameters
    assert saved.substitutions({parameter.name: value}, PREFIXES) == \
        {ox.Variable(variable[1:]): term}


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("?_who_iri", "not an iri", "an IRI"),
    ("?_who_iri", "http://x> . } } SELECT * { ?s ?p ?o", "an IRI"),
    ("?_who_iri", "relative/path", "an IRI"),
    ("?_n_integer", "3; DROP ALL", "a whole number"),
    ("?_n_number", "NaN", "a number"),
    ("?_d_xsd_date", "2020-02-30", "a date as YYYY-MM-DD"),
    ("?_d_xsd_date", "3 January", "a date as YYYY-MM-DD"),
    ("?_y_xsd_gYear", "twenty", "a year"),
])
def test_bad_values_are_refused_with_what_is_expected(tmp_path: Path, variable: str, value: str,
                                                      expected: str) -> None:
    saved = _one(tmp_path, f"#+ summary: s\n{HEAD}SELECT * WHERE {{ ?s ex:p {variable} }}")
    with pytest.raises(ParameterError, match=expected) as caught:
        saved.substitutions({saved.parameters[0].name: value}, PREFIXES)
    assert caught.value.status == 400 and repr(value) in caught.value.message


def test_missing_unknown_and_unlisted_values(tmp_path: Path) -> None:
    saved = _one(tmp_path, "#+ summary: s\n#+ enumerate:\n#+   - kind:\n#+     - a\n#+     - b\n"
                 + HEAD + "SELECT * WHERE { ?s ex:p ?_kind ; ex:q ?__other }")
    with pytest.raises(ParameterError, match="needs parameter 'kind'"):
        saved.substitutions({}, PREFIXES)
    with pytest.raises(ParameterError, match=r"has no parameter 'colour'.*kind, other"):
        saved.substitutions({"kind": "a", "colour": "red"}, PREFIXES)
    with pytest.raises(ParameterError, match="one of a, b"):
        saved.substitutions({"kind": "c"}, PREFIXES)
    # An optional parameter left out (or empty) stays a variable, as grlc leaves it.
    assert saved.substitutions({"kind": "b", "other": ""}, PREFIXES) == \
        {ox.Variable("_kind"): ox.Literal("b")}


def test_an_injection_attempt_is_only_a_string(tmp_path: Path) -> None:
    """The value is bound as one literal: it cannot add patterns or reach other data."""
    saved = _one(tmp_path, "#+ summary: s\n" + HEAD +
                 "SELECT ?s ?_name WHERE { ?s ex:name ?name FILTER(?name = ?_name) }")
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/name"),
                      ox.Literal("Alpha")))
    store.add(ox.Quad(ox.NamedNode("http://example.org/secret"), ox.NamedNode("http://example.org/p"),
                      ox.Literal("hidden")))

    def subjects(name: str) -> list[ox.NamedNode]:
        result = store.query(saved.text, substitutions=saved.substitutions({"name": name},
                                                                           PREFIXES))
        assert isinstance(result, ox.QuerySolutions)
        return [row["s"] for row in result]

    assert subjects('"} . ?s ?p ?o {') == []
    assert subjects("Alpha") == [ox.NamedNode("http://example.org/a")]
    assert saved.grlc_compatible is False  # grlc would paste the value into the SELECT list


@pytest.mark.parametrize(("text", "problem"), [
    ("SELECT * WHERE { ?s ?p ?o }", "no summary"),
    ("#+ summary: s\n#+ tags: [a\nSELECT * WHERE { ?s ?p ?o }", "not YAML"),
    ("#+ summary: s\n#+ tags: words\nSELECT * WHERE { ?s ?p ?o }", "tags must be a list"),
    ("#+ summary: s\n#+ defaults:\n#+   - colour: red\nSELECT * WHERE { ?s ?p ?_kind }",
     "defaults names 'colour'"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?_when_xsd_date }", "needs the line PREFIX xsd:"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?_when_weird }", "unknown type 'weird'"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?_start_date_xsd_date }", "unknown type"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?_x_iri . ?s ?q ?__x_iri }", "both ?_x_iri and"),
    ("#+ summary: s\nSELECT ?s WHERE { ?s ?p ?o FILTER(?o = ?_x) }", "cannot be bound"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?o FILTER(?o = ?_x) }", "cannot be bound"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p }", "does not parse"),
    ("#+ summary: s\nINSERT DATA { <a:b> <a:c> <a:d> }", "no SELECT"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?_version }", "may not be called 'version'"),
    ("#+ summary: s\nSELECT * WHERE { ?s ?p ?_endpoint_iri }", "may not be called 'endpoint'"),
    ("#+ summary: s\n#+ defaults:\n#+   - minimum: many\nPREFIX xsd: <http://www.w3.org/2001/"
     "XMLSchema#>\nSELECT * WHERE { ?s ?p ?_minimum_integer }",
     "the default is not a value of its type: parameter 'minimum' must be a whole number"),
])
def test_bad_files_are_left_out_with_the_fix(tmp_path: Path, text: str, problem: str) -> None:
    queries, problems = _catalog(tmp_path, good="#+ summary: s\nASK { ?s ?p ?o }", bad=text)
    assert list(queries) == ["good"]
    (message,) = problems
    assert message.startswith(f"{tmp_path / 'bad.rq'}:") and problem in message
    assert "fix:" in message


def test_the_file_name_up_to_its_first_dot_names_the_query(tmp_path: Path) -> None:
    queries, problems = _catalog(tmp_path, **{"events.v2": "#+ summary: s\nASK { ?s ?p ?o }"})
    assert list(queries) == ["events"] and not problems



def test_two_files_that_name_one_query_are_reported(tmp_path: Path) -> None:
    queries, problems = _catalog(tmp_path, **{"events": "#+ summary: a\nASK { ?s ?p ?o }",
                                              "events.v2": "#+ summary: b\nASK { ?s ?p ?o }"})
    assert [q.summary for q in queries.values()] == ["a"]
    (message,) = problems
    assert "events.v2.rq:1" in message and "another file already names the query 'events'" \
        in message


def test_a_yaml_boolean_default_is_the_text_the_researcher_wrote(tmp_path: Path) -> None:
    text = ("#+ summary: s\n#+ defaults:\n#+   - flag: true\n"
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
            "SELECT * WHERE { ?s ?p ?_flag_xsd_boolean }")
    queries, problems = _catalog(tmp_path, flagged=text)
    assert not problems and queries["flagged"].parameters[0].default == "true"


def test_an_enumerated_iri_may_be_given_as_a_prefixed_name() -> None:
    saved = load_catalog(Settings().queries_dir).queries["events-of-type"]
    bound = saved.substitutions({"type": "ckg:MissileStrike"}, PREFIXES)
    assert list(bound.values()) == [ox.NamedNode(PREFIXES["ckg"] + "MissileStrike")]
    with pytest.raises(ParameterError, match="must be one of"):
        saved.substitutions({"type": "ckg:Person"}, PREFIXES)
