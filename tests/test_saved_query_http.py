"""Saved queries over HTTP, on the real server: the list, each query's page and form, its
answers in every format, permalinks that pin the dataset version, citations, OpenAPI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import bibtexparser
import pyoxigraph as ox
import pytest
import requests
from bs4 import BeautifulSoup
from conftest import serve
from openapi_spec_validator import validate

from kg.namespaces import Namespaces
from kg.querying import run_query
from kg.saved_queries import load_catalog
from kg.settings import Settings
from kg.store import read_manifest

#: What Chrome sends when it opens a page (a media type with parameters last: see
#: server.negotiation.prefers_html).
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
                  "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"}
RES = "https://w3id.org/crisiskg/resource/"
TRUMP = {"actor": "res:donald-trump"}
CATALOG = load_catalog(Settings().queries_dir)


def _page(url: str) -> BeautifulSoup:
    response = requests.get(url, headers=HTML, timeout=30)
    assert response.status_code == 200, response.text
    return BeautifulSoup(response.text, "html.parser")


def _solutions(body: bytes, fmt: ox.QueryResultsFormat) -> set[tuple[tuple[str, str], ...]]:
    if fmt == ox.QueryResultsFormat.CSV:  # lossy: pyoxigraph does not read it back
        rows = csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))
        return {tuple((k, v) for k, v in row.items() if v) for row in rows}
    result = ox.parse_query_results(io.BytesIO(body), fmt)
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return {tuple((n, str(s[n])) for n in names if s[n] is not None) for s in result}


def test_the_list_groups_every_query_under_each_of_its_tags(live_server: str) -> None:
    soup = _page(f"{live_server}/queries")
    for name, query in CATALOG.queries.items():
        for tag in query.tags:
            section = soup.find("section", id=f"tag-{tag}")
            assert section is not None, tag
            assert section.find("a", string=name) is not None, (tag, name)
    listed = {a.string for a in soup.select("section.tag a")}
    assert listed == set(CATALOG.queries)


def test_the_list_has_a_json_twin_by_suffix_and_by_accept(live_server: str) -> None:
    by_suffix = requests.get(f"{live_server}/queries.json", timeout=30).json()
    by_accept = requests.get(f"{live_server}/queries",
                             headers={"Accept": "application/json"}, timeout=30).json()
    assert by_suffix == by_accept
    entries = {q["name"]: q for q in by_suffix["queries"]}
    assert set(entries) == set(CATALOG.queries) and by_suffix["problems"] == []
    between = entries["events-between-dates"]
    assert [(p["name"], p["type"], p["required"], p["default"]) for p in between["parameters"]] \
        == [("from", "date", True, "2020-01-01"), ("to", "date", True, "2020-01-31")]
    assert between["grlc_compatible"] is False
    assert between["results"]["csv"] == f"{live_server}/queries/events-between-dates.csv"
    assert entries["wikidata-facts"]["needs_internet"] is True


def test_a_query_page_builds_its_form_from_the_parameters(live_server: str) -> None:
    soup = _page(f"{live_server}/queries/events-between-dates")
    form = soup.find("form", id="parameters")
    inputs = {i["name"]: i for i in form.find_all("input")}
    assert set(inputs) == {"from", "to"}
    assert inputs["from"]["type"] == "date" and inputs["from"]["value"] == "2020-01-01"
    assert inputs["to"].has_attr("required")
    choices = _page(f"{live_server}/queries/events-of-type").find("select", id="p-type")
    options = [o["value"] for o in choices.find_all("option")]
    assert options == list(CATALOG.queries["events-of-type"].parameters[0].choices)
    assert choices.find("option", selected=True)["value"].endswith("#ArmedAttack")
    minimum = _page(f"{live_server}/queries/busiest-actors").find("input", id="p-minimum")
    assert minimum["type"] == "number" and minimum["step"] == "1"


def test_the_page_runs_the_query_with_the_values_given(live_server: str) -> None:
    soup = _page(f"{live_server}/queries/events-between-dates?from=2020-01-03&to=2020-01-03")
    rows = soup.select("#results tbody tr")
    labels = sorted(row.find_all("td")[1].contents[0].strip() for row in rows)
    # Both dated 3 January 2020 in the articles; nothing else is dated to that very day.
    assert labels == ["John Bolton’s tweet on Soleimani’s killing", "Killing of Qassem Soleimani"]
    assert soup.find(id="count").get_text(strip=True) == "2 rows"
    link = soup.select_one("#results tbody a[href$='killing-of-qassem-soleimani']")
    assert link is not None and link.string == "res:killing-of-qassem-soleimani"


def test_a_bad_value_is_shown_beside_the_form_that_keeps_it(live_server: str) -> None:
    response = requests.get(f"{live_server}/queries/events-between-dates?from=2020-02-30",
                            headers=HTML, timeout=30)
    assert response.status_code == 400
    soup = BeautifulSoup(response.text, "html.parser")
    assert soup.find(id="error").get_text(strip=True) == (
        "parameter 'from' must be a date as YYYY-MM-DD, such as 2020-01-03, not '2020-02-30'")
    assert soup.find("input", id="p-from")["value"] == "2020-02-30"
    machine = requests.get(f"{live_server}/queries/events-between-dates.csv?from=2020-02-30",
                           timeout=30)
    assert machine.status_code == 400 and "not '2020-02-30'" in machine.json()["message"]
    unknown = requests.get(f"{live_server}/queries/actor-involvement.json?actor=res:iran&x=1",
                           timeout=30)
    assert unknown.status_code == 400
    assert unknown.json()["message"] == ("actor-involvement has no parameter 'x' "
                                         "(its parameters: actor)")


def test_injected_syntax_in_a_value_stays_a_value(live_server: str) -> None:
    attack = "} . ?s ?p ?o {"
    as_iri = requests.get(f"{live_server}/queries/actor-involvement.json",
                          params={"actor": attack}, timeout=30)
    assert as_iri.status_code == 400 and "must be an IRI" in as_iri.json()["message"]
    as_text = requests.get(f"{live_server}/queries/label-search.json",
                           params={"text": f'"{attack}'}, timeout=30)
    assert as_text.status_code == 200
    assert _solutions(as_text.content, ox.QueryResultsFormat.JSON) == set()
    page = _page(f"{live_server}/queries/label-search?text={quote(attack)}")
    assert page.find("input", id="p-text")["value"] == attack
    assert page.find(id="count").get_text(strip=True) == "0 rows"


def test_a_parameter_given_twice_is_refused(live_server: str) -> None:
    response = requests.get(f"{live_server}/queries/busiest-actors.csv?minimum=5&minimum=x",
                            timeout=30)
    assert response.status_code == 400
    assert response.json()["message"] == "parameter 'minimum' is given 2 times; give it once"


def test_a_page_or_data_as_the_client_weighs_them(live_server: str) -> None:
    base = f"{live_server}/queries/busiest-actors"
    prefers_csv = requests.get(base, headers={"Accept": "text/csv, text/html;q=0.5"},
                               timeout=30)
    assert prefers_csv.headers["Content-Type"].startswith("text/csv")
    anything = requests.get(base, headers={"Accept": "*/*"}, timeout=30)
    assert anything.headers["Content-Type"].startswith("application/sparql-results+json")
    empty_format = requests.get(f"{base}?format=", headers=HTML, timeout=30)
    assert empty_format.headers["Content-Type"].startswith("text/html")
    description = requests.get(f"{live_server}/sparql", timeout=30,
                               headers={"Accept": "application/rdf+xml, text/html;q=0.5"})
    assert description.headers["Content-Type"].startswith("application/rdf+xml")


def test_revalidation_is_weak_and_never_for_a_refused_query(live_server: str) -> None:
    base = f"{live_server}/queries/iran-proxies.csv"
    tag = requests.get(base, timeout=30).headers["ETag"]
    weak = requests.get(base, headers={"If-None-Match": f"W/{tag}"}, timeout=30)
    assert weak.status_code == 304
    star = requests.get(base, headers={"If-None-Match": "*"}, timeout=30)
    assert star.status_code == 200
    refused = requests.get(f"{live_server}/queries/wikidata-facts.json",
                           headers={"If-None-Match": "*"}, timeout=30)
    assert refused.status_code == 400


@pytest.mark.parametrize(("suffix", "media_type", "fmt"), [
    ("json", "application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("xml", "application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("csv", "text/csv", ox.QueryResultsFormat.CSV),
    ("tsv", "text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_every_format_by_suffix_by_accept_and_by_format_gives_the_same_answer(
        live_server: str, seed_built: Settings, suffix: str, media_type: str,
        fmt: ox.QueryResultsFormat) -> None:
    base = f"{live_server}/queries/actor-involvement"
    by_suffix = requests.get(f"{base}.{suffix}", params=TRUMP, timeout=30)
    by_accept = requests.get(base, params=TRUMP, headers={"Accept": media_type}, timeout=30)
    by_format = requests.get(base, params={**TRUMP, "format": suffix}, headers=HTML, timeout=30)
    for response in (by_suffix, by_accept, by_format):
        assert response.status_code == 200 and response.headers["Content-Type"].startswith(
            media_type)
    assert by_suffix.headers["Content-Disposition"] == \
        f'inline; filename="actor-involvement.{suffix}"'
    query = CATALOG.queries["actor-involvement"]
    prefixes = Namespaces().prefixes()
    expected = run_query(seed_built, query.text, suffix,
                         substitutions=query.substitutions(TRUMP, prefixes)).encode("utf-8")
    answer = _solutions(expected, fmt)
    killing = f"{RES}killing-of-qassem-soleimani"
    assert any(("event", killing) in row or ("event", f"<{killing}>") in row for row in answer)
    for response in (by_suffix, by_accept, by_format):
        assert _solutions(response.content, fmt) == answer


def test_answers_to_different_values_are_cached_apart(live_server: str) -> None:
    base = f"{live_server}/queries/actor-involvement.csv"
    trump = requests.get(base, params=TRUMP, timeout=30)
    iran = requests.get(base, params={"actor": "res:iran"}, timeout=30)
    again = requests.get(base, params=TRUMP, timeout=30)
    assert trump.headers["ETag"] != iran.headers["ETag"] and trump.text != iran.text
    assert again.headers["ETag"] == trump.headers["ETag"] and again.text == trump.text
    revalidated = requests.get(base, params=TRUMP, timeout=30,
                               headers={"If-None-Match": trump.headers["ETag"]})
    assert revalidated.status_code == 304


def test_the_query_text_is_served_as_the_file_is(live_server: str) -> None:
    response = requests.get(f"{live_server}/queries/retaliation-chains.rq", timeout=30)
    assert response.headers["Content-Type"].startswith("application/sparql-query")
    assert response.text == (Settings().queries_dir / "retaliation-chains.rq").read_text(
        encoding="utf-8")


@pytest.mark.parametrize("address", ["nope", "nope.json", "actor-involvement.pdf",
                                     "actor-involvement.",
                                     "actor-involvement/x", "..%2Fpyproject.toml"])
def test_unknown_queries_and_suffixes_are_404(live_server: str, address: str) -> None:
    response = requests.get(f"{live_server}/queries/{address}", timeout=30)
    assert response.status_code == 404 and response.json()["message"]


def test_the_permalink_pins_query_values_and_version(live_server: str,
                                                     seed_built: Settings) -> None:
    version = read_manifest(seed_built.store_dir / "current").dataset_version
    soup = _page(f"{live_server}/queries/events-between-dates?from=2020-01-03")
    permalink = soup.find(id="permalink")["href"]
    parts = urlsplit(permalink)
    assert parts.path == "/queries/events-between-dates"
    # The default of `to` is pinned too: a later change of the default must not change it.
    query_version = CATALOG.queries["events-between-dates"].version
    assert parse_qs(parts.query) == {"from": ["2020-01-03"], "to": ["2020-01-31"],
                                     "version": [version], "query-version": [query_version]}
    pinned = requests.get(permalink, headers={"Accept": "text/csv"}, timeout=30)
    assert pinned.status_code == 200 and "killing-of-qassem-soleimani" in pinned.text
    assert pinned.headers["Link"] == f'<{permalink}>; rel="cite-as"'
    gone = requests.get(permalink.replace(version, "0123456789abcdef"), timeout=30)
    assert gone.status_code == 410
    assert gone.json()["message"].startswith(
        f"this link pins dataset version 0123456789abcdef, but the server now serves version "
        f"{version}")
    edited = requests.get(permalink.replace(query_version, "00000000"), timeout=30)
    assert edited.status_code == 410
    assert edited.json()["message"].startswith(
        "this link pins version 00000000 of the saved query events-between-dates, but it has "
        f"changed since (now version {query_version})")
    # A person following the stale link reads the same message on a page.
    page = requests.get(permalink.replace(version, "0123456789abcdef"), headers=HTML,
                        timeout=30)
    assert page.status_code == 410 and page.headers["Content-Type"].startswith("text/html")
    message = BeautifulSoup(page.text, "html.parser").find(id="message").get_text()
    assert message == gone.json()["message"]
    downloads = soup.select("#downloads a")
    assert [a.get_text() for a in downloads] == ["JSON", "XML", "CSV", "TSV"]
    for link in downloads:  # each download is the same pinned answer
        assert parse_qs(urlsplit(link["href"]).query) == parse_qs(parts.query)


def test_the_page_says_how_to_cite_the_result(live_server: str, seed_built: Settings) -> None:
    manifest = read_manifest(seed_built.store_dir / "current")
    version = manifest.dataset_version
    soup = _page(f"{live_server}/queries/actor-involvement?actor=res:donald-trump")
    permalink = soup.find(id="permalink")["href"]
    text = soup.find(id="citation-text").get_text()
    assert text.startswith(f"crisiskg contributors ({manifest.created[:4]}). Everything "
                           "involving an actor "
                           "(saved query actor-involvement, actor = res:donald-trump)")
    assert f"dataset version {version}. {permalink} (accessed " in text
    library = bibtexparser.loads(soup.find(id="citation-bibtex").get_text())
    (entry,) = library.entries
    assert entry["ID"] == f"crisiskg-actor-involvement-{version[:8]}"
    assert entry["howpublished"] == f"\\url{{{permalink}}}"
    assert entry["title"].startswith("Everything involving an actor")


def test_a_federated_query_says_where_it_runs(live_server: str) -> None:
    # The test servers allow no SERVICE endpoint (conftest.serve).
    response = requests.get(f"{live_server}/queries/wikidata-facts", headers=HTML, timeout=30)
    assert response.status_code == 400
    soup = BeautifulSoup(response.text, "html.parser")
    assert "KG_SERVICE_ALLOW" in soup.find(class_="warning").get_text()
    assert soup.find(id="error").get_text(strip=True) == (
        "federated queries (SERVICE) are not enabled on this endpoint")
    assert soup.find(id="results") is None
    machine = requests.get(f"{live_server}/queries/wikidata-facts.json", timeout=30)
    assert machine.status_code == 400
    assert machine.json()["message"] == ("federated queries (SERVICE) are not enabled on this "
                                         "endpoint")


#: Saved queries only the tests have: a value without a default, and markup in the metadata.
EXTRA_QUERIES = {
    "needs-value.rq": "#+ summary: Facts about a thing\nSELECT * WHERE { ?_thing_iri ?p ?o }\n",
    "markup.rq": "#+ summary: <script>alert(1)</script>\nASK { ?s ?p ?o }\n",
    # A parameter named like url_for's own argument, and a result that is not a web address.
    "odd.rq": ("#+ summary: Odd names\n"
               "SELECT * WHERE { VALUES (?x ?_address_iri) { (<javascript:alert(1)> <a:b>) } }"
               "\n"),
}


@pytest.fixture(scope="module")
def other_server(seed_built: Settings, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[str]:
    """A server with a row cap of 2 and the shipped saved queries plus EXTRA_QUERIES."""
    folder = tmp_path_factory.mktemp("queries")
    for path in Settings().queries_dir.glob("*.rq"):
        (folder / path.name).write_bytes(path.read_bytes())
    for name, text in EXTRA_QUERIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    yield from serve(seed_built.store_dir, KG_ROW_CAP="2", KG_QUERIES_DIR=str(folder))


def test_a_cut_answer_says_so_on_the_page_and_in_the_header(other_server: str) -> None:
    soup = _page(f"{other_server}/queries/military-events-timeline")
    assert soup.find(id="truncated").get_text(strip=True) == "cut at the row cap of 2 rows"
    assert len(soup.select("#results tbody tr")) == 2
    cut = requests.get(f"{other_server}/queries/military-events-timeline.csv", timeout=30)
    assert cut.headers["KG-Result-Truncated"] == "true; rows=2"


def test_a_required_value_left_out_asks_for_it_and_runs_nothing(other_server: str) -> None:
    soup = _page(f"{other_server}/queries/needs-value")
    assert soup.find(id="missing").get_text(strip=True) == "Fill in thing to run the query."
    assert soup.find(id="results") is None
    machine = requests.get(f"{other_server}/queries/needs-value.json", timeout=30)
    assert machine.status_code == 400
    assert machine.json()["message"] == ("needs-value needs parameter 'thing': an IRI, such as "
                                         "https://w3id.org/crisiskg/resource/iran, or res:iran")


def test_odd_names_and_addresses_are_served_safely(other_server: str) -> None:
    soup = _page(f"{other_server}/queries/odd?address=a:b")
    assert parse_qs(urlsplit(soup.find(id="permalink")["href"]).query)["address"] == ["a:b"]
    cells = soup.select("#results tbody td")
    assert sorted(c.get_text(strip=True) for c in cells) == ["a:b", "javascript:alert(1)"]
    assert soup.select("#results tbody a") == []  # neither is a web address: no links


def test_markup_in_a_query_s_metadata_is_shown_as_text(other_server: str) -> None:
    for address in ("/queries", "/queries/markup", "/api"):
        soup = _page(f"{other_server}{address}")
        assert soup.find("script") is None, address
        assert "<script>alert(1)</script>" in soup.get_text(), address


def test_the_openapi_document_validates_and_covers_every_query(live_server: str) -> None:
    document = requests.get(f"{live_server}/openapi.json", timeout=30).json()
    validate(document)  # raises if it is not a valid OpenAPI 3.1 document
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": live_server}]
    for name, query in CATALOG.queries.items():
        operation = document["paths"][f"/queries/{name}"]["get"]
        assert operation["summary"] == query.summary
        declared = {p["name"]: p for p in operation["parameters"]}
        assert set(declared) == {p.name for p in query.parameters} | {"format", "version"}
    between = document["paths"]["/queries/events-between-dates"]["get"]["parameters"]
    assert between[0] == {"name": "from", "in": "query", "required": False,
                          "description": "a date as YYYY-MM-DD, such as 2020-01-03",
                          "schema": {"type": "string", "format": "date",
                                     "default": "2020-01-01"}}
    kinds = document["paths"]["/queries/events-of-type"]["get"]["parameters"][0]["schema"]
    assert kinds["enum"] == list(CATALOG.queries["events-of-type"].parameters[0].choices)


def test_each_operation_answers_as_its_description_says(live_server: str) -> None:
    """Call every operation with the values its OpenAPI description gives (defaults, the first
    enumerated value, a known resource for an IRI) and check the answer's media type."""
    document = requests.get(f"{live_server}/openapi.json", timeout=30).json()
    for path, item in document["paths"].items():
        operation = item["get"]
        if not path.startswith("/queries/") or "SERVICE" in operation["description"]:
            continue
        values = {}
        for parameter in operation["parameters"]:
            schema = parameter["schema"]
            if parameter["name"] in ("format", "version"):
                continue
            # Every value given, as a client reading the document would: the default, else
            # the first enumerated value, else a resource of the graph.
            fallback = str(schema.get("default", (schema.get("enum") or [f"{RES}iran"])[0]))
            values[parameter["name"]] = fallback.lower() if schema["type"] == "boolean" \
                else fallback
        for media_type in operation["responses"]["200"]["content"]:
            response = requests.get(f"{live_server}{path}", params=values,
                                    headers={"Accept": media_type}, timeout=30)
            assert response.status_code == 200, (path, media_type, response.text)
            assert response.headers["Content-Type"].startswith(media_type)


def test_the_api_page_lists_every_operation(live_server: str) -> None:
    soup = _page(f"{live_server}/api")
    headings = {h.get_text(strip=True) for h in soup.select("section.operation h2")}
    assert {f"GET /queries/{name}" for name in CATALOG.queries} <= headings
    section = soup.find("section", id="eventsBetweenDates")
    assert "2020-01-01" in section.find("table").get_text()


def test_the_landing_page_says_what_the_dataset_is(live_server: str,
                                                   seed_built: Settings) -> None:
    manifest = read_manifest(seed_built.store_dir / "current")
    soup = _page(f"{live_server}/")
    assert soup.find(id="count-quads").get_text() == str(manifest.counts["quads"])
    assert soup.find(id="count-documents").get_text() == "2"
    assert soup.find(id="version").get_text() == manifest.dataset_version
    titles = sorted(li.a.get_text() for li in soup.find(id="documents").find_all("li"))
    assert titles == [
        "Killing of Iranian General: US Reaps More Than It Wished For",
        "‘Dead-heat’ for US and Iran as both sides step back from the brink after "
        "Soleimani killing"]
    assert soup.select_one("main a[href='/queries']").get_text() == \
        f"{len(CATALOG.queries)} saved queries"
    assert f"dataset version {manifest.dataset_version}" in soup.find(id="cite").get_text()


def test_saved_query_answers_are_open_to_other_origins(live_server: str) -> None:
    for address in ("/queries.json", "/queries/iran-proxies.json", "/openapi.json"):
        response = requests.get(f"{live_server}{address}", timeout=30,
                                headers={"Origin": "https://example.org"})
        assert response.headers["Access-Control-Allow-Origin"] == "*", address
