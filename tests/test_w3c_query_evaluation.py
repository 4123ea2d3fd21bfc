"""The W3C SPARQL 1.1 query-evaluation tests through the endpoint, in all four result formats.

For every query-evaluation test, the endpoint's answer (over HTTP semantics, through the
row cap's round trip) must equal pyoxigraph's answer in-process on
the same store, dataset and base IRI. So the endpoint passes exactly the tests pyoxigraph
passes. The suite comes from rdflib's source distribution on PyPI, which carries the W3C
sparql11 suites complete (queries, data and expected results).
"""

from __future__ import annotations

import io
import itertools
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient

from kg.errors import QueryError
from kg.settings import Settings
from kg.store import Manifest, ReadStore, current_build, write_build
from server import create_app

RDFLIB_SDIST = "rdflib==7.6.0"
SUITE_PATH = "test/data/suites/w3c/sparql11/"
SUITES = ["aggregates", "bind", "bindings", "construct", "exists", "functions", "grouping",
          "negation", "project-expression", "property-path", "subquery"]
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
ENDPOINT = "http://localhost/sparql"
NO_NAMED_GRAPHS = "http://localhost/no-named-graphs"  # named-graph-uri that names nothing
FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
           "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


@dataclass(frozen=True)
class EvaluationTest:
    """One test: its query, default-graph data files and named-graph data files."""

    name: str
    folder: Path
    query: str
    data: tuple[str, ...]
    graph_data: tuple[str, ...]


def _suite_dir() -> Path:
    cache = Path(os.environ.get("KG_TEST_CACHE", Path.home() / ".cache" / "crisiskg-tests"))
    target = cache / "rdflib-7.6.0"
    if not (target / SUITE_PATH).is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "--dest", str(cache), RDFLIB_SDIST],
                       check=True, timeout=600)
        with tarfile.open(next(cache.glob("rdflib-7.6.0.tar.gz"))) as archive:
            members = [m for m in archive.getmembers() if SUITE_PATH in m.name]
            archive.extractall(cache, members=members, filter="data")
    return target / SUITE_PATH


def _files(store: ox.Store, test: ox.NamedNode, predicate: str, base: str) -> tuple[str, ...]:
    rows = store.query(f"SELECT ?f WHERE {{ <{test.value}> <{MF}action>/<{QT}{predicate}> ?f }}")
    return tuple(sorted(r["f"].value.removeprefix(base) for r in rows))  # type: ignore[union-attr]


def _load_tests() -> list[EvaluationTest]:
    """Every query-evaluation test of the suites whose files rdflib ships."""
    root = _suite_dir()
    tests = []
    for suite in SUITES:
        folder = root / suite
        base = f"file://{folder}/"
        store = ox.Store()
        store.load(path=str(folder / "manifest.ttl"), format=ox.RdfFormat.TURTLE,
                   base_iri=base + "manifest.ttl")
        query = f"""SELECT ?test ?name ?query WHERE {{
            ?test a <{MF}QueryEvaluationTest> ; <{MF}name> ?name ;
                  <{MF}action>/<{QT}query> ?query }}"""
        for row in store.query(query):  # type: ignore[union-attr]
            test = row["test"]
            query_file = folder / row["query"].value.removeprefix(base)
            data = _files(store, test, "data", base)
            graph_data = _files(store, test, "graphData", base)
            if not all((folder / f).exists() for f in (query_file.name, *data, *graph_data)):
                continue  # rdflib leaves a few of the suite's files out
            tests.append(EvaluationTest(f"{suite}/{row['name'].value}", folder,
                                        query_file.read_text("utf-8"), data, graph_data))
    return sorted(tests, key=lambda t: t.name)


TESTS = _load_tests()
BUILD_NUMBERS = itertools.count(1)  # build ids must be unique and sort in build order


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FlaskClient, Path]]:
    store_dir = tmp_path_factory.mktemp("w3c-eval")
    write_build(store_dir, "00000000T000000000000Z-empty", [],
                Manifest("empty", "empty", "2000-01-01T00:00:00+00:00", {}))
    yield create_app({"KG_SETTINGS": Settings(store_dir=store_dir),
                      "TESTING": True}).test_client(), store_dir


def _graph_name(file: str) -> str:
    # Named as the endpoint resolves a relative IRI, so a query's own FROM <data.ttl> finds it.
    return f"http://localhost/{file}"


def _build(store_dir: Path, test: EvaluationTest, index: int) -> None:
    quads = []
    for file in (*test.data, *test.graph_data):
        fmt = ox.RdfFormat.from_extension(file.rsplit(".", 1)[-1]) or ox.RdfFormat.TURTLE
        graph = ox.NamedNode(_graph_name(file))
        quads += [ox.Quad(t.subject, t.predicate, t.object, graph) for t in
                  ox.parse(path=str(test.folder / file), format=fmt,
                           base_iri=f"http://localhost/{file}")]
    write_build(store_dir, f"00000001T{index:018d}Z-test", quads,
                Manifest(test.name, f"test-{index}", "2000-01-01T00:00:00+00:00", {}))


def _dataset(test: EvaluationTest) -> dict[str, list[str]]:
    if re.search(r"\bFROM\b", test.query, re.IGNORECASE):
        return {}  # the query names its dataset itself
    return {"default-graph-uri": [_graph_name(f) for f in test.data],
            "named-graph-uri": [_graph_name(f) for f in test.graph_data] or [NO_NAMED_GRAPHS]}


def _normalize_results(data: bytes, fmt: ox.QueryResultsFormat) -> object:
    parsed = ox.parse_query_results(data, fmt)
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    names = [v.value for v in parsed.variables]
    rows = sorted(repr(tuple("_:b" if isinstance(s[n], ox.BlankNode) else s[n] for n in names))
                  for s in parsed)
    return names, rows


def _normalize_graph(data: bytes) -> list[str]:
    return sorted(re.sub(r"_:\S+", "_:b", str(t)) for t in ox.parse(data, ox.RdfFormat.N_TRIPLES))


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_endpoint_answers_as_pyoxigraph_does(endpoint: tuple[FlaskClient, Path],
                                             test: EvaluationTest) -> None:
    client, store_dir = endpoint
    _build(store_dir, test, next(BUILD_NUMBERS))
    dataset = _dataset(test)
    build = current_build(store_dir)
    assert build is not None
    with ReadStore(build) as store:
        arguments = {}
        if dataset:
            arguments = {"default_graph": [ox.NamedNode(g) for g in dataset["default-graph-uri"]],
                         "named_graphs": [ox.NamedNode(g) for g in dataset["named-graph-uri"]]}
        try:
            expected = store.query(test.query, base_iri=ENDPOINT, **arguments)
        except QueryError as error:
            response = client.post("/sparql", data=test.query.encode(), query_string=dataset,
                                   content_type="application/sparql-query")
            assert response.status_code == 400, error
            return
        graph_result = isinstance(expected, ox.QueryTriples)
        for name, fmt in ({"ntriples": None} if graph_result else FORMATS).items():
            answer = store.query(test.query, base_iri=ENDPOINT, **arguments)
            buffer = io.BytesIO()
            answer.serialize(buffer, ox.RdfFormat.N_TRIPLES if fmt is None else fmt)
            if isinstance(answer, ox.QueryBoolean) and name in ("csv", "tsv"):
                continue  # booleans have no CSV/TSV form
            response = client.post("/sparql", data=test.query.encode(),
                                   query_string={**dataset, "format": name},
                                   content_type="application/sparql-query")
            assert response.status_code == 200, response.get_data(as_text=True)[:300]
            if fmt is None:
                assert _normalize_graph(response.data) == _normalize_graph(buffer.getvalue())
            elif name == "csv":  # CSV keeps no types: compare the text, bnode labels aside
                assert sorted(re.sub(rb"_:\w+", b"_:b", response.data).split(b"\r\n")) == \
                    sorted(re.sub(rb"_:\w+", b"_:b", buffer.getvalue()).split(b"\r\n")), name
            else:
                assert _normalize_results(response.data, fmt) == \
                    _normalize_results(buffer.getvalue(), fmt), name


def test_the_suites_are_all_there() -> None:
    assert len(TESTS) > 150
