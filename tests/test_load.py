"""`kg load`: a researcher's own RDF files bulk-loaded into the store as named graphs, in every
format pyoxigraph reads (gzipped too), all or nothing, and kept by the next `kg build`."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.build import build
from kg.errors import LoadError
from kg.loading import load_files, plan_sources
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.store import ReadStore, current_build, read_manifest
from server import create_app

NS = Namespaces("https://w3id.org/crisiskg/")
EX = "http://example.org/"
TRIPLES = [ox.Triple(ox.NamedNode(f"{EX}event-{i}"), ox.NamedNode(f"{EX}label"),
                     ox.Literal(f"event {i}", language="en")) for i in range(50)]


def _write(folder: Path, name: str, fmt: ox.RdfFormat, data: list[ox.Triple] | list[ox.Quad],
           gzipped: bool = False) -> Path:
    path = folder / name
    body = ox.serialize(data, format=fmt) or b""
    path.write_bytes(gzip.compress(body) if gzipped else body)
    return path


def _kg(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_STORE_DIR": str(settings.store_dir),
           "KG_CORPUS_DIR": str(settings.corpus_dir)}
    return subprocess.run([sys.executable, "-m", "kg", *args], env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def _count(settings: Settings, query: str) -> int:
    with ReadStore.open_current(settings.store_dir) as store:
        return int(next(iter(store.query(query)))["n"].value)


@pytest.mark.parametrize(("name", "fmt", "gzipped"), [
    ("a.ttl", ox.RdfFormat.TURTLE, False), ("a.nt.gz", ox.RdfFormat.N_TRIPLES, True),
    ("a.rdf", ox.RdfFormat.RDF_XML, False), ("a.jsonld", ox.RdfFormat.JSON_LD, False),
    ("a.nq", ox.RdfFormat.N_QUADS, False), ("a.trig.gz", ox.RdfFormat.TRIG, True),
])
def test_each_format_loads_into_its_graph_and_the_union(
        mini_settings: Settings, tmp_path: Path, name: str, fmt: ox.RdfFormat,
        gzipped: bool) -> None:
    build(mini_settings)
    before = read_manifest(current_build(mini_settings.store_dir))  # type: ignore[arg-type]
    data = TRIPLES if fmt not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else \
        [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(f"{EX}theirs")) for t in TRIPLES]
    path = _write(tmp_path, name, fmt, data, gzipped)
    result = _kg(mini_settings, "load", str(path))
    assert result.returncode == 0, result.stderr
    graph = f"{EX}theirs" if isinstance(data[0], ox.Quad) else \
        NS.base + "graph/loaded/a"
    assert "loaded 50 quads into 1 graphs" in result.stdout
    assert f"{name} (graph)" in result.stderr  # the progress bar's label
    assert _count(mini_settings, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> "
                                 "{ ?s ?p ?o } }") == 50
    # The union default graph holds them too, so every query sees them.
    assert _count(mini_settings, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}") == 50
    after = read_manifest(current_build(mini_settings.store_dir))  # type: ignore[arg-type]
    assert after.loaded[graph]["file"] == name and after.loaded[graph]["quads"] == 50
    assert after.dataset_version != before.dataset_version


def test_a_bad_file_fails_the_whole_load_with_file_and_line(mini_settings: Settings,
                                                            tmp_path: Path) -> None:
    build(mini_settings)
    served = current_build(mini_settings.store_dir)
    good = _write(tmp_path, "good.ttl", ox.RdfFormat.TURTLE, TRIPLES)
    bad = tmp_path / "bad.ttl"
    bad.write_text(f"<{EX}a> <{EX}b> <{EX}c> .\n<{EX}a> <{EX}b> .\n", encoding="utf-8")
    result = _kg(mini_settings, "load", str(good), str(bad))
    assert result.returncode == 2
    assert f"kg: error: {bad}: not valid Turtle: Parser error at line 2" in result.stderr
    assert "nothing was loaded" in result.stderr
    assert current_build(mini_settings.store_dir) == served
    assert not list((mini_settings.store_dir / "builds").glob("*.partial"))
    assert _count(mini_settings, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}") == 0


def test_a_load_adds_graphs_and_never_changes_one(mini_settings: Settings,
                                                  tmp_path: Path) -> None:
    build(mini_settings)
    path = _write(tmp_path, "a.ttl", ox.RdfFormat.TURTLE, TRIPLES)
    load_files(mini_settings, plan_sources([path], NS))
    with pytest.raises(LoadError, match=r"the store has a graph .*graph/loaded/a already"):
        load_files(mini_settings, plan_sources([path], NS))
    # A quad file naming a graph of the corpus is refused, and nothing of it stays.
    served = current_build(mini_settings.store_dir)
    intruder = _write(tmp_path, "b.nq", ox.RdfFormat.N_QUADS, [ox.Quad(
        ox.NamedNode(f"{EX}x"), ox.NamedNode(f"{EX}y"), ox.NamedNode(f"{EX}z"),
        ox.NamedNode(NS.graph("mini")))])
    with pytest.raises(LoadError, match=r"has quads in the graph .*graph/mini, which the store "
                                        "holds already"):
        load_files(mini_settings, plan_sources([intruder], NS))
    assert current_build(mini_settings.store_dir) == served


def test_names_and_formats_are_checked_before_anything_is_read(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        plan_sources([tmp_path / "missing.ttl"], NS)
    odd = tmp_path / "data.csv"
    odd.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(LoadError, match="cannot tell the format from the name; give --format"):
        plan_sources([odd], NS)
    one, two = (_write(tmp_path, n, ox.RdfFormat.TURTLE, TRIPLES) for n in ("x.ttl", "y.ttl"))
    with pytest.raises(LoadError, match="--graph names the graph of one file"):
        plan_sources([one, two], NS, graph=f"{EX}g")
    other = tmp_path / "other"
    other.mkdir()
    twin = _write(other, "x.ttl.gz", ox.RdfFormat.TURTLE, TRIPLES, gzipped=True)
    with pytest.raises(LoadError, match=r"two files would load into .*graph/loaded/x"):
        plan_sources([one, twin], NS)


def test_the_next_build_keeps_what_was_loaded(mini_settings: Settings, tmp_path: Path) -> None:
    build(mini_settings)
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(f"{EX}theirs"))
             for t in TRIPLES[:10]]
    load_files(mini_settings, plan_sources([
        _write(tmp_path, "a.ttl", ox.RdfFormat.TURTLE, TRIPLES),
        _write(tmp_path, "b.trig", ox.RdfFormat.TRIG, quads)], NS))
    loaded = read_manifest(current_build(mini_settings.store_dir)).loaded  # type: ignore[arg-type]
    version = read_manifest(current_build(mini_settings.store_dir)).dataset_version  # type: ignore[arg-type]
    report = build(mini_settings)
    manifest = read_manifest(current_build(mini_settings.store_dir))  # type: ignore[arg-type]
    assert manifest.loaded == loaded and set(loaded) == {NS.base + "graph/loaded/a",
                                                         f"{EX}theirs"}
    assert manifest.dataset_version == version == report.dataset_version
    assert _count(mini_settings, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{EX}theirs> "
                                 "{ ?s ?p ?o } }") == 10
    assert _count(mini_settings, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}") == 50


def test_the_server_answers_from_the_loaded_graphs(mini_settings: Settings,
                                                    tmp_path: Path) -> None:
    build(mini_settings)
    client = create_app({"KG_SETTINGS": mini_settings, "TESTING": True}).test_client()
    query = {"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}label> ?o }}"}
    assert client.get("/sparql", query_string=query).get_json()["results"]["bindings"][0][
        "n"]["value"] == "0"
    load_files(mini_settings, plan_sources([_write(tmp_path, "a.ttl", ox.RdfFormat.TURTLE,
                                                   TRIPLES)], NS))
    assert client.get("/sparql", query_string=query).get_json()["results"]["bindings"][0][
        "n"]["value"] == "50"
    assert NS.base + "graph/loaded/a" in client.get(
        "/sparql", headers={"Accept": "text/turtle"}).get_data(as_text=True)
