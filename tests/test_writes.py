"""Writes behind the admin token: SPARQL Update and the Graph Store, seen by every worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from flask.testing import FlaskClient

from kg.build import build
from kg.errors import SettingsError
from kg.settings import Settings
from kg.store import current_build

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LABEL = "SELECT ?l WHERE { res:ann-example skos:prefLabel ?l }"


@pytest.fixture
def writable(mini_settings: Settings) -> Iterator[tuple[str, Path]]:
    """`kg serve` (2 workers) with an admin token over a fresh build of the mini corpus."""
    from conftest import serve

    build(mini_settings)
    for url in serve(mini_settings.store_dir, KG_ADMIN_TOKEN=TOKEN, KG_ACCESS_LOG="-"):
        yield url, mini_settings.store_dir


def _labels(url: str) -> set[str]:
    rows = requests.get(f"{url}/sparql", params={"query": LABEL}, timeout=10).json()
    return {b["l"]["value"] for b in rows["results"]["bindings"]}


def test_without_a_token_configured_every_write_is_refused(client: FlaskClient) -> None:
    update = client.post("/update", data="CLEAR ALL", content_type="application/sparql-update",
                         headers=AUTH)
    store = client.put("/store?graph=https://example.org/g", data="<a> <b> <c> .",
                       content_type="text/turtle", headers=AUTH)
    assert (update.status_code, store.status_code) == (403, 403)
    assert update.get_json()["message"] == \
        "this endpoint is read-only: writes are not enabled"


def test_a_write_needs_the_right_token(writable: tuple[str, Path]) -> None:
    url, _ = writable
    body = {"update": "INSERT DATA { GRAPH <https://example.org/g> { <a:x> <a:y> 1 } }"}
    missing = requests.post(f"{url}/update", data=body, timeout=10)
    wrong = requests.post(f"{url}/update", data=body, timeout=10,
                          headers={"Authorization": "Bearer not-the-token-at-all"})
    assert (missing.status_code, missing.json()["message"]) == (
        401, "writes need the admin token: Authorization: Bearer <token>")
    assert (wrong.status_code, wrong.json()["message"]) == (403, "the admin token is not right")
    assert requests.get(f"{url}/update", params=body, timeout=10).status_code == 405


def test_an_update_is_seen_by_every_worker(writable: tuple[str, Path]) -> None:
    url, store_dir = writable
    before = current_build(store_dir)
    etag = requests.get(f"{url}/sparql", params={"query": LABEL}, timeout=10).headers["ETag"]
    update = """DELETE { GRAPH ?g { res:ann-example skos:prefLabel ?l } }
                 INSERT { GRAPH ?g { res:ann-example skos:prefLabel "Ann E."@en } }
                 WHERE { GRAPH ?g { res:ann-example skos:prefLabel ?l } }"""
    response = requests.post(f"{url}/update", data=update, timeout=30,
                             headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 204
    assert current_build(store_dir) != before
    # Two sync workers take turns; every answer after the write must show it.
    assert [_labels(url) for _ in range(12)] == [{"Ann E."}] * 12
    after = requests.get(f"{url}/sparql", params={"query": LABEL}, timeout=10,
                         headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


def test_a_failed_update_changes_nothing(writable: tuple[str, Path]) -> None:
    url, store_dir = writable
    before = current_build(store_dir)
    response = requests.post(f"{url}/update", data={"update": "INSERT DATA { <a:x> <a:y> }"},
                             headers=AUTH, timeout=10)
    assert response.status_code == 400
    assert response.json()["message"].startswith("the update does not parse")
    assert current_build(store_dir) == before
    assert sorted(p.name for p in (store_dir / "builds").iterdir()) == [before.name] \
        if before else False
    assert _labels(url) == {"Ann Example"}


def test_the_graph_store_protocol(writable: tuple[str, Path]) -> None:
    url, _ = writable
    graph = {"graph": "https://example.org/my-notes"}
    turtle = "<https://example.org/s> <https://example.org/p> 'first' ."
    created = requests.put(f"{url}/store", params=graph, data=turtle, timeout=30,
                           headers={**AUTH, "Content-Type": "text/turtle"})
    added = requests.post(f"{url}/store", params=graph, timeout=30,
                          data='<https://example.org/s> <https://example.org/p> "second" .',
                          headers={**AUTH, "Content-Type": "application/n-triples"})
    assert (created.status_code, added.status_code) == (201, 204)
    read = requests.get(f"{url}/store", params=graph, timeout=10,
                        headers={"Accept": "application/n-triples"})
    assert {t.object.value for t in ox.parse(read.content, ox.RdfFormat.N_TRIPLES)} == \
        {"first", "second"}
    assert requests.get(f"{url}/sparql", params={
        "query": "ASK { <https://example.org/s> <https://example.org/p> 'second' }"},
        timeout=10).json()["boolean"] is True
    assert requests.delete(f"{url}/store", params=graph, headers=AUTH,
                           timeout=30).status_code == 204
    assert requests.get(f"{url}/store", params=graph, timeout=10).status_code == 404
    unsupported = requests.put(f"{url}/store", params=graph, data=turtle, timeout=10,
                               headers={**AUTH, "Content-Type": "text/plain-ish"})
    assert unsupported.status_code == 415


def test_the_token_is_never_logged(writable: tuple[str, Path]) -> None:
    url, store_dir = writable
    requests.post(f"{url}/update", data={"update": "CLEAR SILENT GRAPH <https://e.org/g>"},
                  headers=AUTH, timeout=30)
    requests.post(f"{url}/update", data={"update": "CLEAR ALL"}, timeout=10,
                  headers={"Authorization": "Bearer a-wrong-token-of-some-length"})
    log = (store_dir / "serve.log").read_text(encoding="utf-8")
    assert "POST /update" in log
    assert TOKEN not in log and "a-wrong-token" not in log


def test_a_short_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="KG_ADMIN_TOKEN must be at least 16 characters"):
        Settings.from_env({"KG_ADMIN_TOKEN": "secret"})
    assert TOKEN not in repr(Settings.from_env({"KG_ADMIN_TOKEN": TOKEN}))


def test_a_chunked_body_over_the_limit_is_413_not_cut(writable: tuple[str, Path]) -> None:
    url, _ = writable
    line = b'<https://example.org/s> <https://example.org/p> "%s" .\n'

    def chunks() -> Iterator[bytes]:
        for i in range(30_000):
            yield line % str(i).encode()

    response = requests.put(f"{url}/store", params={"graph": "https://example.org/big"},
                            data=chunks(), timeout=60,
                            headers={**AUTH, "Content-Type": "application/n-triples"})
    assert response.status_code == 413
    assert requests.get(f"{url}/store", params={"graph": "https://example.org/big"},
                        timeout=10).status_code == 404
    small = requests.put(f"{url}/store", params={"graph": "https://example.org/small"},
                         data=iter([line % b"1", line % b"2"]), timeout=60,
                         headers={**AUTH, "Content-Type": "application/n-triples"})
    assert small.status_code == 201


def test_a_write_while_another_holds_the_store_is_told_to_retry(
        mini_settings: Settings) -> None:
    import fcntl
    from dataclasses import replace

    from server import create_app

    build(mini_settings)
    app = create_app({"KG_SETTINGS": replace(mini_settings, admin_token=TOKEN),
                      "TESTING": True})
    with (mini_settings.store_dir / ".build.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        response = app.test_client().post("/update", data={"update": "CLEAR ALL"},
                                          headers=AUTH)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")


def test_leftovers_of_a_killed_write_are_swept(writable: tuple[str, Path]) -> None:
    url, store_dir = writable
    leftover = store_dir / "builds" / "20000101T000000000000Z-update.partial"
    leftover.mkdir()
    requests.post(f"{url}/update", data={"update": "CLEAR SILENT GRAPH <https://e.org/g>"},
                  headers=AUTH, timeout=30)
    assert not leftover.exists()
