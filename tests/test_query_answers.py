"""Each saved query answers its question as the two seed articles do.

The expected rows are read from the articles themselves (the quotes are given where the answer
rests on one), not from the graph, so a wrong query or a wrong build fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.namespaces import Namespaces
from kg.saved_queries import Catalog, load_catalog
from kg.settings import Settings
from kg.store import ReadStore

PREFIXES = Namespaces().prefixes()
Row = dict[str, str]
Run = Callable[..., list[Row]]


def _short(term: ox.NamedNode | ox.Literal | ox.BlankNode | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix in ("res", "ckg"):
            if term.value.startswith(PREFIXES[prefix]):
                return f"{prefix}:{term.value[len(PREFIXES[prefix]):]}"
        return term.value
    return term.value


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(Settings().queries_dir)


@pytest.fixture(scope="module")
def store(seed_built: Settings) -> Iterator[ReadStore]:
    with ReadStore.open_current(seed_built.store_dir) as opened:
        yield opened


@pytest.fixture
def run(catalog: Catalog, store: ReadStore) -> Run:
    def answer(name: str, **values: str) -> list[Row]:
        saved = catalog.queries[name]
        result = store.query(saved.text, substitutions=saved.substitutions(values, PREFIXES))
        return [{str(v)[1:]: _short(row[v]) for v in result.variables} for row in result]
    return answer


def _pick(rows: list[Row], *columns: str) -> list[tuple[str, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


def test_military_events_timeline(run: Run) -> None:
    rows = run("military-events-timeline")
    dated = [r for r in rows if r["earliest"]]
    assert [r["earliest"] for r in dated] == sorted(r["earliest"] for r in dated)
    assert rows.index(dated[-1]) == len(dated) - 1  # undated events come last
    killing = next(r for r in rows if r["event"] == "res:killing-of-qassem-soleimani")
    # "on 3 January" (first article) + "the first days of January 2020" (second)
    assert (killing["edtf"], killing["precision"], killing["types"]) == \
        ("2020-01-03", "ckg:DayPrecision", "TargetedKilling")
    # "drone and missile strikes on Saudi oil facilities": both kinds of strike
    oil = next(r for r in rows if r["event"] == "res:attack-on-saudi-oil-facilities")
    assert set(oil["types"].split(", ")) == {"MissileStrike", "AirOrDroneStrike"}
    # "The Iranian ballistic missile strikes on US bases": no date in the text
    strikes = next(r for r in rows if r["event"] == "res:iranian-missile-strikes-on-us-bases")
    assert strikes["edtf"] == "" and strikes["types"] == "MissileStrike"
    assert not {r["event"] for r in rows} & {"res:pompeo-visit-to-saudi-arabia",
                                             "res:iranian-parliamentary-election-2020"}


def test_events_between_dates(run: Run) -> None:
    january = {r["event"] for r in run("events-between-dates")}  # defaults: January 2020
    # the killing "on 3 January", Bolton's tweet in response, "in early January 2020"
    assert january == {"res:killing-of-qassem-soleimani", "res:bolton-tweet",
                       "res:us-iran-step-back-from-confrontation"}
    winter = {r["event"] for r in run("events-between-dates", **{"from": "2019-12-01",
                                                                 "to": "2020-02-29"})}
    assert {"res:embassy-siege", "res:attack-on-us-facility-december-2019",
            "res:missile-attack-on-us-embassy-february-2020",
            "res:iranian-parliamentary-election-2020"} <= winter
    # dated only to a year, 2019: not certainly inside the range
    assert "res:us-drone-shootdown" not in winter


def test_actor_involvement(run: Run) -> None:
    trump = _pick(run("actor-involvement", actor="res:donald-trump"), "event", "role")
    # "By ordering the assassination on 3 January of Qassem Soleimani"
    assert ("res:killing-of-qassem-soleimani", "ckg:orderedBy") in trump
    soleimani = _pick(run("actor-involvement", actor="res:qassem-soleimani"), "event", "role")
    assert ("res:killing-of-qassem-soleimani", "ckg:hasVictim") in soleimani
    iran = _pick(run("actor-involvement"), "event", "role")  # default: Iran
    assert ("res:iranian-missile-strikes-on-us-bases", "ckg:hasAgent") in iran
    assert ("res:us-sanctions-increase-on-iran", "ckg:hasTarget") in iran


def test_attacks_by_iran_and_its_proxies(run: Run) -> None:
    rows = _pick(run("attacks-by-iran-and-its-proxies"), "event", "attacker", "link")
    assert ("res:iranian-missile-strikes-on-us-bases", "res:iran", "Iran itself") in rows
    # "a December 2019 siege of the embassy by Iranian-backed Iraqi militias"
    assert ("res:embassy-siege", "res:iran-backed-iraqi-militias", "backed by Iran") in rows
    # "ballistic missiles launched by Iran-backed Houthi rebels in Yemen"
    assert ("res:houthi-missile-attack-on-riyadh", "res:houthis", "backed by Iran") in rows
    events = {r[0] for r in rows}
    assert "res:killing-of-qassem-soleimani" not in events  # the US's, not Iran's
    assert "res:iran-anti-aircraft-missile-development" not in events  # not an attack


def test_leaders_and_commanders(run: Run) -> None:
    rows = _pick(run("leaders-and-commanders"), "leader", "relation", "organization", "post")
    assert ("res:qassem-soleimani", "ckg:commands", "res:quds-force", "head") in rows
    assert ("res:abu-mahdi-al-muhandis", "ckg:leads", "res:kataib-hezbollah", "leader") in rows
    assert ("res:donald-trump", "ckg:leads", "res:united-states", "President") in rows
    quotes = {r["quote"] for r in run("leaders-and-commanders")}
    assert "Qassem Soleimani, the head of Quds Force" in quotes


def test_iran_proxies(run: Run) -> None:
    rows = set(_pick(run("iran-proxies"), "proxy", "how", "place"))
    assert ("res:houthis", "based in", "res:yemen-country") in rows
    assert ("res:iran-backed-iraqi-militias", "based in", "res:iraq-country") in rows
    assert {("res:iranian-proxies", "operates in", f"res:{c}-country")
            for c in ("iraq", "syria", "lebanon", "yemen")} <= rows


def test_events_in_country(run: Run) -> None:
    rows = set(_pick(run("events-in-country"), "event", "place"))  # default: Iraq
    # "an attack in December 2019 on a US facility in Iraq": a place inside Iraq
    assert ("res:attack-on-us-facility-december-2019", "res:us-facility-in-iraq") in rows
    assert ("res:iranian-missile-strikes-on-us-bases", "res:iraq-country") in rows
    saudi = {r["event"] for r in run("events-in-country", country="res:saudi-arabia-country")}
    assert "res:attack-on-saudi-oil-facilities" in saudi
    assert "res:iraq-protests" not in saudi


def test_events_by_type_and_month(run: Run) -> None:
    counts = {(r["month"], r["type"]): int(r["events"]) for r in run("events-by-type-and-month")}
    # February 2020: the missile attack on the US embassy and the one on Riyadh
    assert counts[("2020-02", "MissileStrike")] == 2
    assert counts[("2020-01", "TargetedKilling")] == 1
    assert counts[("2019-12", "Siege")] == 1
    assert not any(month.startswith("2019-") and month != "2019-12" for month, _ in counts)


def test_claims_and_sources(run: Run) -> None:
    rows = run("claims-and-sources")
    by_claim = {r["claim"]: r for r in rows}
    assert len(by_claim) == len(rows) == 21
    pentagon = by_claim["res:pentagon-on-proxies-ordered"]
    assert pentagon["source"] == "res:pentagon" and pentagon["document"] == "res:dead-heat"
    assert "according to the Pentagon" in pentagon["claim_text"]
    katz = by_claim["res:katz-on-russia-as-reliable-ally"]
    assert katz["source"] == "res:mark-n-katz" and katz["document"] == "res:us-reaps-more"


def test_entity_facts_with_quotes(run: Run) -> None:
    rows = run("entity-facts-with-quotes")  # default: Qassem Soleimani
    facts = {(r["property"], r["value"], r["quote"], r["status"]) for r in rows}
    assert ("ckg:commands", "res:quds-force", "Qassem Soleimani, the head of Quds Force",
            "asserted") in facts
    assert any(p == "ckg:hasVictim" and v == "res:killing-of-qassem-soleimani"
               for p, v, _, _ in facts)
    # "President Trump claims to have eliminated a terrorist mastermind and all-round
    # anti-American monster": the article reports it as Trump's claim, not as its own statement
    assert ("ckg:opposes", "res:united-states", "all-round anti-American monster",
            "claimed") in facts
    assert [f for f in facts if f[3] == "claimed"] == [
        ("ckg:opposes", "res:united-states", "all-round anti-American monster", "claimed")]
    starts = [(r["document"], int(r["start"])) for r in rows]
    assert starts == sorted(starts)


def test_external_links(run: Run) -> None:
    rows = run("external-links")
    assert all(len(r["source"]) > 20 for r in rows)
    tehran = [(r["knowledge_base"], r["match"], r["link"]) for r in rows
              if r["entity"] == "res:tehran"]
    assert tehran == [("DBpedia", "same", "http://dbpedia.org/resource/Tehran"),
                      ("GeoNames", "same", "https://sws.geonames.org/112931/"),
                      ("Wikidata", "same", "http://www.wikidata.org/entity/Q3616")]
    # The state as an actor is only a close match of the country's item; its place is the same.
    iran = {(r["entity"], r["match"]) for r in rows
            if r["link"] == "http://www.wikidata.org/entity/Q794"}
    assert iran == {("res:iran", "close"), ("res:iran-country", "same")}
    assert {r["knowledge_base"] for r in rows} == {"Wikidata", "DBpedia", "GeoNames"}


def test_actors_together(run: Run) -> None:
    rows = run("actors-together")
    pairs = {(r["actor"], r["other"]): int(r["shared_events"]) for r in rows}
    # The killing: ordered by Trump, Soleimani and al-Muhandis its victims
    assert pairs[("res:donald-trump", "res:qassem-soleimani")] == 1
    assert pairs[("res:abu-mahdi-al-muhandis", "res:qassem-soleimani")] == 1
    assert pairs[("res:iran", "res:united-states")] == max(pairs.values())
    assert all(a < b for a, b in pairs)  # each pair once


def test_cited_works(run: Run) -> None:
    rows = run("cited-works")
    assert [int(r["footnote"]) for r in rows] == list(range(1, 25))  # "24 footnotes"
    first = rows[0]
    assert (first["title"], first["publisher"], first["published"]) == \
        ("Iran plays chess, the US plays backgammon",
         "The Turbulent World of Middle East Soccer", "2020-01-09")
    assert {r["document"] for r in rows} == {"res:us-reaps-more"}
    # Footnote 9: "Javid Ahmad and Husain Haqqani, “What does Soleimani’s death mean ...”"
    assert set(rows[8]["authors"].split("; ")) == {"Husain Haqqani", "Javid Ahmad"}


def test_entities_in_both_documents(run: Run) -> None:
    entities = {r["entity"] for r in run("entities-in-both-documents")}
    assert {"res:qassem-soleimani", "res:donald-trump", "res:killing-of-qassem-soleimani",
            "res:quds-force", "res:iran", "res:united-states"} <= entities
    # Mentioned only in the second article
    assert "res:james-m-dorsey" not in entities and "res:mark-n-katz" not in entities


def test_imprecise_dates(run: Run) -> None:
    rows = _pick(run("imprecise-dates"), "event", "stated", "quote")
    assert ("res:killing-of-qassem-soleimani", "XXXX-01-03", "on 3 January") in rows
    assert ("res:attacks-on-us-targets-in-iraq-since-may-2019", "2019-05/..",
            "since May 2019") in rows
    assert all(stated != "2020-01-03" for _, stated, _ in rows)  # day precision is precise


def test_retaliation_chains(run: Run) -> None:
    steps = {(r["response"], r["cause"]): int(r["steps"]) for r in run("retaliation-chains")}
    # The killing answered the December 2019 attack; the mourning answered the killing
    assert steps[("res:killing-of-qassem-soleimani",
                  "res:attack-on-us-facility-december-2019")] == 1
    assert steps[("res:mourning-of-soleimani", "res:killing-of-qassem-soleimani")] == 1
    assert steps[("res:mourning-of-soleimani", "res:attack-on-us-facility-december-2019")] == 2


def test_analysts_and_institutions(run: Run) -> None:
    rows = run("analysts-and-institutions")
    assert {r["analyst"] for r in rows} == {
        "res:michael-eisenstadt", "res:eldar-mamedov", "res:mark-n-katz", "res:negar-razavi",
        "res:maxim-grigoryev"}  # officials (Trump, Bolton) are sources, not analysts
    # "Michael Eisenstadt, an expert on military and strategy at the Washington Institute"
    assert ("res:michael-eisenstadt", "res:winep", "expert on military and strategy") in \
        _pick(rows, "analyst", "institution", "post")


def test_events_of_type(run: Run) -> None:
    attacks = {r["event"] for r in run("events-of-type")}  # default: ArmedAttack, subtypes too
    assert {"res:iranian-missile-strikes-on-us-bases", "res:houthi-missile-attack-on-riyadh",
            "res:attack-on-us-facility-december-2019"} <= attacks
    assert "res:killing-of-qassem-soleimani" not in attacks
    killings = {r["event"] for r in
                run("events-of-type", type="https://w3id.org/crisiskg/ontology#TargetedKilling")}
    assert killings == {"res:killing-of-qassem-soleimani"}


def test_casualties_and_counts(run: Run) -> None:
    rows = _pick(run("casualties-and-counts"), "event", "measure", "value", "status")
    # "Iran admits unintentionally shooting down Ukrainian airliner ... killed 176 people"
    assert ("res:ukrainian-airliner-shootdown", "numberKilled", "176", "asserted") in rows
    # "there had been some 90 attacks ..., the officials said": claimed, not asserted
    claimed = [r for r in run("casualties-and-counts") if r["value"] == "90"]
    assert claimed and all(r["status"] == "claimed" and r["source_label"] == "US officials"
                           for r in claimed)
    assert all(r["estimate"] == "true" for r in claimed)


def test_weapons_and_vehicles(run: Run) -> None:
    rows = set(_pick(run("weapons-and-vehicles"), "event", "kind", "thing"))
    assert ("res:iranian-missile-strikes-on-us-bases", "weapon", "res:ballistic-missile") in rows
    assert ("res:attack-on-saudi-oil-facilities", "weapon", "res:drone") in rows
    assert ("res:us-navy-seizure-of-iranian-missiles", "vehicle", "res:arms-vessels") in rows


def test_organization_hierarchy(run: Run) -> None:
    rows = {(r["unit"], r["parent"]): r["direct"] for r in run("organization-hierarchy")}
    assert rows[("res:quds-force", "res:irgc")] == "true"
    # "Quds Force, the external arm of Iran’s Revolutionary Guards": stated; that it is within
    # Iran's state is HermiT's conclusion, through the Guards
    assert rows[("res:quds-force", "res:iran")] == "false"
    assert rows[("res:nus-mei", "res:nus")] == "true"


def test_alliances_and_rivalries(run: Run) -> None:
    rows = set(_pick(run("alliances-and-rivalries"), "actor", "relation", "other"))
    assert ("res:iran", "ckg:backs", "res:houthis") in rows  # "the Iran-backed Houthis"
    assert ("res:saudi-arabia", "ckg:opposes", "res:iran") in rows  # "the Saudi-Iranian rivalry"
    assert ("res:united-states", "ckg:alliedWith", "res:saudi-arabia") in rows


def test_label_search(run: Run) -> None:
    found = {r["entity"] for r in run("label-search", text="QUDS")}
    assert "res:quds-force" in found
    names = {r["name"] for r in run("label-search")}  # default: soleimani
    assert {"Qassem Soleimani", "Qassim Soleimani"} <= names  # and the spelling it also has
    assert run("label-search", text='"} . ?s ?p ?o {') == []


def test_busiest_actors(run: Run) -> None:
    rows = run("busiest-actors")  # default: at least 3 events
    assert [r["actor"] for r in rows] == ["res:iran", "res:united-states",
                                          "res:qassem-soleimani", "res:saudi-arabia"]
    assert len(run("busiest-actors", minimum="1")) > len(rows)


def test_every_saved_query_has_its_answer_checked(catalog: Catalog) -> None:
    """A query added to queries/ needs its test here (the one that needs the internet aside)."""
    source = Path(__file__).read_text(encoding="utf-8")
    untested = {q.name for q in catalog.queries.values()
                if not q.needs_internet and f'run("{q.name}"' not in source}
    assert not untested
