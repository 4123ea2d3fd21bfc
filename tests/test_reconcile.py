"""The reconciliation service, over real HTTP, checked field by field against the W3C
Reconciliation API 0.2 (the manifest, queries with types, candidates, preview, suggest)."""

from __future__ import annotations

import json

import requests

#: Names as a researcher's spreadsheet might hold them, spelling variants of the texts included,
#: and the entity each must find first.
BATCH = {
    "Qassem Soleimani": "qassem-soleimani",
    "Qassim Soleimani": "qassem-soleimani",  # doc 003's spelling
    "Soleimani": "qassem-soleimani",
    "Abu Mahdi al-Muhandis": "abu-mahdi-al-muhandis",
    "al-Muhandis": "abu-mahdi-al-muhandis",
    "Katab Hezbollah": "kataib-hezbollah",  # doc 003's spelling
    "Kata'ib Hezbollah": "kataib-hezbollah",  # Wikipedia's
    "Revolutionary Guards": "irgc",
    "Al Quds force": "quds-force",
    "Mike Pompeo": "mike-pompeo",
    "Pompeo": "mike-pompeo",
    "donald trump": "donald-trump",
    "Riyadh": "riyadh",
    "Houthi rebels": "houthis",
    "Isis": "isis",
    "Mujahedeen-e-Khalq": "mek",
}


def _reconcile(live_server: str, queries: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    response = requests.post(f"{live_server}/reconcile", data={"queries": json.dumps(queries)},
                             timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == set(queries)
    return {key: answer["result"] for key, answer in body.items()}


def test_the_manifest_has_the_fields_the_spec_requires(live_server: str) -> None:
    response = requests.get(f"{live_server}/reconcile", timeout=30)
    manifest = response.json()
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert manifest["versions"] == ["0.2"]
    assert isinstance(manifest["name"], str) and manifest["name"]
    assert manifest["identifierSpace"] == "https://w3id.org/crisiskg/resource/"
    assert manifest["schemaSpace"] == "https://w3id.org/crisiskg/ontology#"
    assert manifest["view"]["url"] == f"{live_server}/resource/{{{{id}}}}"
    assert manifest["preview"]["url"] == f"{live_server}/reconcile/preview?id={{{{id}}}}"
    assert isinstance(manifest["preview"]["width"], int)
    assert all({"id", "name"} <= set(t) for t in manifest["defaultTypes"])
    for kind in ("entity", "type", "property"):
        suggest = manifest["suggest"][kind]
        assert suggest["service_url"] + suggest["service_path"] == \
            f"{live_server}/reconcile/suggest/{kind}"


def test_a_batch_of_names_finds_the_right_entity_first(live_server: str) -> None:
    keys = {f"q{i}": name for i, name in enumerate(BATCH)}
    results = _reconcile(live_server, {k: {"query": n} for k, n in keys.items()})
    firsts = {keys[k]: (r[0]["id"] if r else None) for k, r in results.items()}
    assert firsts == BATCH
    for result in results.values():
        for candidate in result:
            assert isinstance(candidate["id"], str) and isinstance(candidate["name"], str)
            assert isinstance(candidate["score"], float) and 0 <= candidate["score"] <= 100
            assert isinstance(candidate["match"], bool)
            assert all({"id", "name"} <= set(t) for t in candidate["type"])
        scores = [c["score"] for c in result]
        assert scores == sorted(scores, reverse=True)


def test_an_exact_unique_name_is_a_match_an_ambiguous_one_is_not(live_server: str) -> None:
    results = _reconcile(live_server, {"q0": {"query": "Qassim Soleimani"},
                                       "q1": {"query": "Iran"},
                                       "q2": {"query": "Iran", "type": "Country"},
                                       "q3": {"query": "Iran", "type": ["State"]}})
    assert results["q0"][0]["match"] is True
    # The state (an actor) and the country (a place) are both 'Iran': a type decides.
    assert {c["id"] for c in results["q1"][:2]} == {"iran", "iran-country"}
    assert not any(c["match"] for c in results["q1"])
    assert (results["q2"][0]["id"], results["q2"][0]["match"]) == ("iran-country", True)
    assert results["q3"][0]["id"] == "iran"
    assert {"id": "Country", "name": "Country"} in results["q2"][0]["type"]


def test_properties_from_other_columns_decide_between_namesakes(live_server: str) -> None:
    # 'Iran' is the state and the country; only the state opposes the United States.
    results = _reconcile(live_server, {
        "q0": {"query": "Iran", "properties": [{"pid": "opposes", "v": "United States"}]},
        "q1": {"query": "Iran", "properties": [{"pid": "opposes", "v": {"id": "united-states"}}]},
        "q2": {"query": "Soleimani", "properties": [{"pid": "commands", "v": "Al Quds force"},
                                                    {"pid": "nationality", "v": "Iran"}]}})
    for key in ("q0", "q1"):
        first = results[key][0]
        assert (first["id"], first["score"], first["match"]) == ("iran", 100.0, True)
        assert first["features"] == [{"id": "name", "value": 100.0},
                                     {"id": "opposes", "value": 100.0}]
        country = next(c for c in results[key] if c["id"] == "iran-country")
        assert country["score"] == 50.0  # the name, and no such fact
    soleimani = results["q2"][0]
    assert soleimani["id"] == "qassem-soleimani"
    assert [f["id"] for f in soleimani["features"]] == ["name", "commands", "nationality"]
    # 'Al Quds force' is an alias of the force he commands; the texts call him 'Soleimani'.
    assert [f["value"] for f in soleimani["features"]] == [100.0, 100.0, 100.0]


def test_dates_must_be_equal_and_empty_cells_say_nothing(live_server: str) -> None:
    killing = "Killing of Qassem Soleimani"
    results = _reconcile(live_server, {
        "right": {"query": killing, "properties": [{"pid": "earliestDate", "v": "2020-01-03"}]},
        "wrong": {"query": killing, "properties": [{"pid": "earliestDate", "v": "2020-01-08"}]},
        "empty": {"query": killing, "properties": [{"pid": "earliestDate", "v": ""}]},
        # An id this service does not know, with the name OpenRefine sends beside it.
        "named": {"query": "Iran", "properties": [
            {"pid": "opposes", "v": {"id": "nobody-known", "name": "Saudi Arabia"}}]}})
    features = {key: results[key][0]["features"] for key in ("right", "wrong")}
    assert features["right"][1] == {"id": "earliestDate", "value": 100.0}
    assert features["wrong"][1] == {"id": "earliestDate", "value": 0.0}  # not 'nearly right'
    assert (results["empty"][0]["score"], results["empty"][0]["match"]) == (100.0, True)
    assert results["empty"][0]["features"] == [{"id": "name", "value": 100.0}]
    assert (results["named"][0]["id"], results["named"][0]["score"]) == ("iran", 100.0)


def test_queries_in_the_query_string_and_a_limit(live_server: str) -> None:
    queries = json.dumps({"q0": {"query": "Soleimani", "limit": 2}})
    response = requests.get(f"{live_server}/reconcile", params={"queries": queries}, timeout=30)
    assert [c["id"] for c in response.json()["q0"]["result"]][:1] == ["qassem-soleimani"]
    assert len(response.json()["q0"]["result"]) == 2


def test_bad_queries_are_400s_that_say_why(live_server: str) -> None:
    for queries, message in (
            ("{not json", "queries is not JSON"),
            ('["Soleimani"]', "queries must be a JSON object"),
            ('{"q0": {"name": "x"}}', "query 'q0' needs a `query` string"),
            ('{"q0": {"query": "x", "type": "Spaceship"}}', "'Spaceship' is not a class"),
            ('{"q0": {"query": "x", "limit": 0}}', "limit must be an integer"),
            ('{"q0": {"query": "x", "properties": [{"pid": "colour", "v": "y"}]}}',
             "'colour' is not a property of the ontology"),
            ('{"q0": {"query": "x", "properties": [{"v": "y"}]}}',
             "each property needs `pid` and `v`"),
            ('{"q0": {"query": "x", "properties": [{"pid": "opposes", "v": [[1]]}]}}',
             "the value of 'opposes' must be a string, a number"),
            ('{"q0": {"query": "x", "properties": [{"pid": "opposes", "v": {"id": "nobody"}}]}}',
             "no entity has the id 'nobody' given for 'opposes'; give its name instead")):
        response = requests.post(f"{live_server}/reconcile", data={"queries": queries},
                                 timeout=30)
        assert response.status_code == 400, queries
        assert message in response.json()["message"]


def test_preview_and_suggest(live_server: str) -> None:
    preview = requests.get(f"{live_server}/reconcile/preview", params={"id": "kataib-hezbollah"},
                           timeout=30)
    assert preview.headers["Content-Type"].startswith("text/html")
    assert "Katab Hezbollah" in preview.text
    missing = requests.get(f"{live_server}/reconcile/preview", params={"id": "nobody"},
                           timeout=30)
    assert missing.status_code == 404
    entities = requests.get(f"{live_server}/reconcile/suggest/entity",
                            params={"prefix": "pomp"}, timeout=30).json()["result"]
    assert {"id": "mike-pompeo", "name": "Mike Pompeo"} in entities
    types = requests.get(f"{live_server}/reconcile/suggest/type", params={"prefix": "Mil"},
                         timeout=30).json()["result"]
    assert {"id": "MilitaryBase", "name": "Military base"} in types
    properties = requests.get(f"{live_server}/reconcile/suggest/property",
                              params={"prefix": "loc"}, timeout=30).json()["result"]
    assert {"id": "locatedIn", "name": "located in"} in properties
    assert not any(p["id"] == "evidence" for p in requests.get(
        f"{live_server}/reconcile/suggest/property", timeout=30).json()["result"])
