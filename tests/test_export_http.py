"""Dumps over HTTP, from a real server: the listing, each file as `kg export` makes it."""

from __future__ import annotations

import contextlib
import gzip
import os
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup
from conftest import serve
from helpers import build_with_a_triple_term

from kg.export import EXPORT_FORMATS, export, jsonld_context
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.store import ReadStore, current_build
from server import create_app

NS = Namespaces("https://w3id.org/crisiskg/")


def test_the_listing_links_every_dump_and_each_is_the_kg_export_file(
        live_server: str, seed_built: Settings) -> None:
    page = requests.get(f"{live_server}/export", timeout=120)
    assert page.status_code == 200
    links = {a.text: a["href"] for a in BeautifulSoup(page.text, "html.parser")
             .select("table a")}
    with ReadStore.open_current(seed_built.store_dir) as store:
        expected = {name: export(store, NS, name).data for name in EXPORT_FORMATS}
    assert len(links) == 2 * len(EXPORT_FORMATS)
    for name, fmt in EXPORT_FORMATS.items():
        file_name = f"crisiskg.{fmt.rdf_format.file_extension}"
        plain = requests.get(live_server + links[file_name], timeout=120)
        assert plain.status_code == 200
        assert plain.headers["Content-Type"].split(";")[0] == fmt.rdf_format.media_type
        assert plain.headers["Content-Disposition"] == f"attachment; filename={file_name}"
        assert plain.content == expected[name]
        packed = requests.get(live_server + links[file_name + ".gz"], timeout=120)
        assert packed.headers["Content-Type"] == "application/gzip"
        assert packed.headers["Content-Disposition"] == \
            f"attachment; filename={file_name}.gz"
        assert gzip.decompress(packed.content) == expected[name]
        assert f"{len(plain.content):,} bytes" in page.text


def test_a_dump_is_cached_by_etag_and_an_unknown_one_is_a_404(live_server: str) -> None:
    first = requests.get(f"{live_server}/export/crisiskg.ttl", timeout=120)
    again = requests.get(f"{live_server}/export/crisiskg.ttl", timeout=120,
                         headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    missing = requests.get(f"{live_server}/export/crisiskg.xlsx", timeout=30)
    assert missing.status_code == 404
    assert "no dump 'crisiskg.xlsx'; /export lists them" in missing.json()["message"]


def test_the_json_ld_context_is_published(live_server: str) -> None:
    response = requests.get(f"{live_server}/context.jsonld", timeout=30)
    assert response.headers["Content-Type"] == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json() == jsonld_context(NS)


def test_dumps_after_an_rdf_1_2_write_and_without_a_disk_cache(mini_settings: Settings) -> None:
    build_with_a_triple_term(mini_settings)
    # Where the dumps would be kept, a file: they are served from memory instead.
    build = current_build(mini_settings.store_dir)
    assert build is not None
    (build / "exports").write_text("in the way", encoding="utf-8")
    with contextlib.contextmanager(serve)(mini_settings.store_dir) as url:
        assert requests.get(f"{url}/export", timeout=120).status_code == 200
        turtle = requests.get(f"{url}/export/crisiskg.ttl", timeout=120)
        assert b"<<(" in turtle.content  # Turtle holds the triple term as it is
        jsonld = requests.get(f"{url}/export/crisiskg.jsonld.gz", timeout=120)
        assert jsonld.status_code == 200
        # JSON-LD cannot: there it is an rdf:Statement node.
        assert b'"rdf:Statement"' in gzip.decompress(jsonld.content)


def test_dumps_work_with_a_store_folder_given_relative_to_the_working_directory(
        seed_built: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `kg serve` from a clone uses var/store, relative to where it runs.
    monkeypatch.chdir(tmp_path)
    relative = Path(os.path.relpath(seed_built.store_dir, tmp_path))
    app = create_app({"KG_SETTINGS": replace(seed_built, store_dir=relative), "TESTING": True})
    response = app.test_client().get("/export/crisiskg.nt.gz")
    try:
        assert response.status_code == 200
        assert gzip.decompress(response.data).startswith(b"# crisiskg export of all graphs")
    finally:
        response.close()  # the file send_file opened
