"""`kg release`: a folder that says what it is, checks itself, and whose data conforms."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from helpers import build_with_a_triple_term
from rdflib.namespace import DCAT, VOID

from kg.export import export
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.store import ReadStore

NS = Namespaces("https://w3id.org/crisiskg/")
URL = "https://example.org/deposits/crisiskg-1/"


def _release(settings: Settings, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_STORE_DIR": str(settings.store_dir)}
    return subprocess.run([sys.executable, "-m", "kg", "release", str(folder), *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def released(seed_built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("release") / "crisiskg-1"
    result = _release(seed_built, folder, "--url", URL)
    assert result.returncode == 0, result.stderr
    return folder


def test_every_file_is_there_and_checksummed(released: Path) -> None:
    names = {"crisiskg.ttl", "crisiskg.trig", "ontology.ttl", "shapes.ttl", "void.ttl",
             "README.md", "SHA256SUMS"}
    assert {p.name for p in released.iterdir()} == names
    sums = dict(reversed(line.split("  ")) for line in
                (released / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == names - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((released / name).read_bytes()).hexdigest() == digest
    # The tool researchers use to check a download agrees.
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=released,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_data_is_the_store_and_conforms_to_the_released_shapes(
        released: Path, seed_built: Settings) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        assert (released / "crisiskg.trig").read_bytes() == \
            export(store, NS, "trig", rdf11=True).data
        graphs = set(store.named_graphs())
    in_trig = {q.graph_name.value for q in ox.parse(path=str(released / "crisiskg.trig"))
               if isinstance(q.graph_name, ox.NamedNode)}
    assert in_trig == graphs
    # Written with --rdf11, yet the seeds hold no triple terms: the header says so.
    assert "\n# RDF 1.1: no triple terms\n" in (released / "crisiskg.ttl").read_text()
    data = rdflib.Graph().parse(released / "crisiskg.ttl", format="turtle")
    shapes = rdflib.Graph().parse(released / "shapes.ttl", format="turtle")
    conforms, _, report = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    assert conforms, report
    ontology = rdflib.Graph().parse(released / "ontology.ttl", format="turtle")
    assert (rdflib.URIRef("https://w3id.org/crisiskg/ontology"), rdflib.RDF.type,
            rdflib.OWL.Ontology) in ontology


def test_the_description_and_readme_say_what_it_is_and_how_to_cite_it(
        released: Path, seed_built: Settings) -> None:
    void = rdflib.Graph().parse(released / "void.ttl", format="turtle")
    dataset = rdflib.URIRef("https://w3id.org/crisiskg/dataset")
    assert set(void.objects(dataset, VOID.dataDump)) == {
        rdflib.URIRef(URL + "crisiskg.ttl"), rdflib.URIRef(URL + "crisiskg.trig")}
    assert void.value(dataset, DCAT.landingPage) == rdflib.URIRef(URL)
    readme = (released / "README.md").read_text(encoding="utf-8")
    with ReadStore.open_current(seed_built.store_dir) as store:
        version = store.manifest.dataset_version
    assert readme.startswith(f"# crisiskg, dataset version {version}\n")
    assert "## How to cite" in readme and f"@misc{{crisiskg_{version}," in readme
    assert "- <https://w3id.org/crisiskg/resource/dead-heat>" in readme
    assert f"It is published at <{URL}>." in readme


def test_a_release_never_overwrites(seed_built: Settings, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = _release(seed_built, tmp_path)
    assert result.returncode == 7
    assert "is not empty; a release goes into a new folder" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_release_is_rdf_1_1_even_after_an_rdf_1_2_write(mini_settings: Settings,
                                                          tmp_path: Path) -> None:
    build_with_a_triple_term(mini_settings)
    assert _release(mini_settings, tmp_path / "r").returncode == 0
    data = rdflib.Graph().parse(tmp_path / "r" / "crisiskg.ttl", format="turtle")
    note = rdflib.URIRef("http://example.org/note")
    assert (note, rdflib.RDF.type, rdflib.RDF.Statement) in data
    assert "# RDF 1.1: triple terms rewritten" in (tmp_path / "r" / "crisiskg.ttl").read_text()
