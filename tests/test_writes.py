"""Writes behind the admin token: SPARQL Update and the Graph Store, seen by every worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import requests
from conftest import BACKENDS, oxigraph_server, serve
from flask.testing import FlaskClient

from kg.build import build
from kg.errors import SettingsError
from kg.remote import Backend, push_build, read_remote_manifest
from kg.settings import Settings
from kg.store import ReadStore, current_build

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LABEL = "SELECT ?l WHERE { res:ann-example skos:prefLabel ?l }"


@dataclass(frozen=True)
class Writable:
    """A server taking writes: its URL, its local folder, and which build it serves."""

    url: str
    folder: Path
    build_id: Callable[[], str]
    remote: bool

    def __iter__(self) -> Iterator[Any]:  # url, folder = writable
        return iter((self.url, self.folder))


@pytest.fixture(params=BACKENDS)
def writable(request: pytest.FixtureRequest, mini_settings: Settings,
             tmp_path: Path) -> Iterator[Writable]:
    """`kg serve` (2 workers) with an admin token over a fresh build of the mini corpus, on
    each backend (the remote one a fresh Oxigraph server the build is pushed to)."""
    yield from _serve_writable(request.param, mini_settings, tmp_path)


@pytest.fixture
def embedded_writable(mini_settings: Settings, tmp_path: Path) -> Iterator[Writable]:
    """The same on the embedded store only, for what only it has (its build folders)."""
    yield from _serve_writable("embedded", mini_settings, tmp_path)


def _serve_writable(kind: str, mini_settings: Settings, tmp_path: Path) -> Iterator[Writable]:
    build(mini_settings)
    if kind == "embedded":
        def embedded_build() -> str:
            current = current_build(mini_settings.store_dir)
            assert current is not None
            return current.name

        for url in serve(mini_settings.store_dir, KG_ADMIN_TOKEN=TOKEN, KG_ACCESS_LOG="-"):
            yield Writable(url, mini_settings.store_dir, embedded_build, remote=False)
        return
    for root in oxigraph_server(tmp_path / "oxigraph"):
        backend = Backend.at(f"{root}/query")
        with ReadStore.open_current(mini_settings.store_dir) as store:
            push_build(backend, store.quads(), store.manifest)
        local = tmp_path / "local"
        local.mkdir()
        def remote_build(backend: Backend = backend) -> str:
            return read_remote_manifest(backend).build_id

        for url in serve(local, KG_ADMIN_TOKEN=TOKEN, KG_ACCESS_LOG="-",
                         KG_BACKEND=backend.query_url):
            yield Writable(url, local, remote_build, remote=True)


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


def test_a_write_needs_the_right_token(writable: Writable) -> None:
    url, _ = writable
    body = {"update": "INSERT DATA { GRAPH <https://example.org/g> { <a:x> <a:y> 1 } }"}
    missing = requests.post(f"{url}/update", data=body, timeout=10)
    wrong = requests.post(f"{url}/update", data=body, timeout=10,
                          headers={"Authorization": "Bearer not-the-token-at-all"})
    assert (missing.status_code, missing.json()["message"]) == (
        401, "writes need the admin token: Authorization: Bearer <token>")
    assert (wrong.status_code, wrong.json()["message"]) == (403, "the admin token is not right")
    assert requests.get(f"{url}/update", params=body, timeout=10).status_code == 405


def test_an_update_is_seen_by_every_worker(writable: Writable) -> None:
    url = writable.url
    before = writable.build_id()
    etag = requests.get(f"{url}/sparql", params={"query": LABEL}, timeout=10).headers["ETag"]
    update = """DELETE { GRAPH ?g { res:ann-example skos:prefLabel ?l } }
                 INSERT { GRAPH ?g { res:ann-example skos:prefLabel "Ann E."@en } }
                 WHERE { GRAPH ?g { res:ann-example skos:prefLabel ?l } }"""
    response = requests.post(f"{url}/update", data=update, timeout=30,
                             headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert response.status_code == 204
    assert writable.build_id() != before
    # Two sync workers take turns; every answer after the write must show it.
    assert [_labels(url) for _ in range(12)] == [{"Ann E."}] * 12
    after = requests.get(f"{url}/sparql", params={"query": LABEL}, timeout=10,
                         headers={"If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag


def test_a_failed_update_changes_nothing(writable: Writable) -> None:
    url, store_dir = writable
    before = writable.build_id()
    response = requests.post(f"{url}/update", data={"update": "INSERT DATA { <a:x> <a:y> }"},
                             headers=AUTH, timeout=10)
    assert response.status_code == 400
    assert response.json()["message"].startswith("the update does not parse")
    assert writable.build_id() == before
    if not writable.remote:
        assert sorted(p.name for p in (store_dir / "builds").iterdir()) == [before]
    assert _labels(url) == {"Ann Example"}


def test_the_graph_store_protocol(writable: Writable) -> None:
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


def test_the_token_is_never_logged(writable: Writable) -> None:
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


def test_a_chunked_body_over_the_limit_is_413_not_cut(writable: Writable) -> None:
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


def test_leftovers_of_a_killed_write_are_swept(embedded_writable: Writable) -> None:
    url, store_dir = embedded_writable
    leftover = store_dir / "builds" / "20000101T000000000000Z-update.partial"
    leftover.mkdir()
    requests.post(f"{url}/update", data={"update": "CLEAR SILENT GRAPH <https://e.org/g>"},
                  headers=AUTH, timeout=30)
    assert not leftover.exists()


@pytest.mark.parametrize("update", [
    "INSERT DATA { <https://example.org/s> <https://example.org/p> 1 }",
    "INSERT { ?s <https://example.org/p> 1 } WHERE { ?s a ckg:Person }",
    "ADD GRAPH <https://example.org/g> TO DEFAULT",
])
def test_a_write_to_the_default_graph_is_kept_or_refused(writable: Writable,
                                                         update: str) -> None:
    """The embedded store keeps what an update writes to the default graph (in graph/default);
    on a backend the default graph is only the union, so such an update is refused, saying
    where to write instead, and nothing changes."""
    before = writable.build_id()
    response = requests.post(f"{writable.url}/update", data={"update": update}, headers=AUTH,
                             timeout=30)
    if not writable.remote:
        assert response.status_code == 204
        return
    assert response.status_code == 400
    assert "writes to the default graph, which on a SPARQL backend is only the union of the " \
        "named graphs: write into a named graph, such as GRAPH " \
        "<https://w3id.org/crisiskg/graph/default>" in response.json()["message"]
    assert writable.build_id() == before
