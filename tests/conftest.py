"""Shared fixtures: fixture corpora, built stores, the Flask app and client, a live server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from kg.build import build
from kg.remote import Backend, push_build
from kg.settings import Settings
from kg.store import ReadStore
from server import create_app

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
MINI = FIXTURES / "mini"
PAIR = FIXTURES / "pair"
#: The stores every HTTP-level test runs against: the embedded one, and a remote SPARQL server
#: (a real Oxigraph server holding the same build).
BACKENDS = ["embedded", "oxigraph"]


@pytest.fixture
def bad_corpus(tmp_path: Path) -> Callable[[str], Settings]:
    """Settings for a corpus of the fixture text annotated by one bad fixture file."""

    def make(name: str) -> Settings:
        corpus = tmp_path / "bad-corpus"
        shutil.rmtree(corpus, ignore_errors=True)
        (corpus / "documents").mkdir(parents=True)
        shutil.copy(MINI / "documents" / "mini.txt", corpus / "documents")
        shutil.copy(FIXTURES / "bad" / name, corpus / "documents" / "mini.yaml")
        return Settings(corpus_dir=corpus, store_dir=tmp_path / "bad-store")

    return make


@pytest.fixture
def mini_settings(tmp_path: Path) -> Settings:
    """Settings for a private copy of the mini corpus and an empty store folder."""
    corpus = tmp_path / "corpus"
    shutil.copytree(MINI, corpus)
    return Settings(corpus_dir=corpus, store_dir=tmp_path / "store")


@pytest.fixture(scope="session")
def mini_built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The mini corpus, built once."""
    settings = Settings(corpus_dir=MINI, store_dir=tmp_path_factory.mktemp("mini-store"))
    build(settings)
    return settings


@pytest.fixture(scope="session")
def pair_built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The two-document fixture corpus, built once."""
    settings = Settings(corpus_dir=PAIR, store_dir=tmp_path_factory.mktemp("pair-store"))
    build(settings)
    return settings


@pytest.fixture
def corpus_of(tmp_path: Path) -> Callable[[dict[str, str]], Settings]:
    """Settings for a corpus made of the given files (path relative to the corpus -> text).

    The mini document's text is always there as documents/mini.txt.
    """

    def make(files: dict[str, str]) -> Settings:
        corpus = tmp_path / "inline-corpus"
        shutil.rmtree(corpus, ignore_errors=True)
        (corpus / "documents").mkdir(parents=True)
        shutil.copy(MINI / "documents" / "mini.txt", corpus / "documents")
        for name, text in files.items():
            (corpus / name).write_bytes(text.encode("utf-8"))
        return Settings(corpus_dir=corpus, store_dir=tmp_path / "inline-store")

    return make


@pytest.fixture(scope="session")
def seed_built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The packaged seed corpus, built once."""
    settings = replace(Settings(), store_dir=tmp_path_factory.mktemp("seed-store"))
    build(settings)
    return settings


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, seed_built: Settings, tmp_path: Path) -> Flask:
    """The app over the seed build, on each backend (see BACKENDS)."""
    settings = seed_built
    if request.param == "oxigraph":
        settings = replace(seed_built, store_dir=tmp_path / "remote-local",
                           backend=request.getfixturevalue("oxigraph_backend"))
    return create_app({"KG_SETTINGS": settings, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path,
                       seconds: float) -> None:
    """Return once `url` answers; if the process ends or time runs out first, kill it and
    raise RuntimeError with its log."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                raise RuntimeError(log.read_text(encoding="utf-8")) from None
            time.sleep(0.1)


#: The pid of each server started by `serve`, by URL (tests that watch its processes use it).
SERVED: dict[str, int] = {}


def serve(store_dir: Path, **settings: str) -> Iterator[str]:
    """Run `kg serve` (gunicorn, 2 workers) on a free loopback port; yield its URL.

    `settings` are extra KG_* variables, e.g. KG_QUERY_TIMEOUT="2".
    """
    port = free_port()
    # No SERVICE to the internet from the tests: a test that needs one allows it.
    env = {**os.environ, "KG_STORE_DIR": str(store_dir), "KG_HOST": "127.0.0.1",
           "KG_PORT": str(port), "KG_WORKERS": "2", "KG_SERVICE_ALLOW": "", **settings}
    log = store_dir / "serve.log"
    output = log.open("wb")
    process = subprocess.Popen([sys.executable, "-m", "kg", "serve"], env=env,
                               stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    SERVED[url] = process.pid
    try:
        wait_until_serving(f"{url}/health", process, log, seconds=30)
    except RuntimeError:
        output.close()
        raise
    try:
        yield url
    finally:
        SERVED[url] = process.pid
        process.terminate()
        process.wait(timeout=10)
        output.close()


def oxigraph_binary() -> str:
    """The `oxigraph` command (the peer engine, from PyPI's `oxigraph`), or fail saying how
    to install it."""
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or \
        shutil.which("oxigraph")
    if found is None:
        pytest.fail("the oxigraph server is not installed: pip install -e '.[test]' installs "
                    "it (oxigraph from PyPI)", pytrace=False)
    return found


def oxigraph_server(location: Path, *arguments: str, command: str = "serve"
                    ) -> Iterator[str]:
    """`oxigraph serve` (read-write; or another `command`, such as serve-read-only) on a free
    loopback port over a store folder; yield its root URL (queries at /query, updates at
    /update, Graph Store at /store)."""
    port = free_port()
    location.mkdir(parents=True, exist_ok=True)
    log = location.parent / f"{location.name}-oxigraph.log"
    with log.open("wb") as output:
        process = subprocess.Popen([oxigraph_binary(), command, "--location", str(location),
                                    "--bind", f"127.0.0.1:{port}", *arguments],
                                   stdout=output, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(f"{url}/query?query=ASK%7B%7D", process, log, seconds=30)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # busy with a query it cannot stop
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def oxigraph_backend(seed_built: Settings, tmp_path_factory: pytest.TempPathFactory
                     ) -> Iterator[str]:
    """A real Oxigraph server holding the seed build, pushed as `kg build --to` pushes it;
    yields its query URL."""
    location = tmp_path_factory.mktemp("backend") / "oxigraph"
    for url in oxigraph_server(location):
        backend = Backend.at(f"{url}/query")
        with ReadStore.open_current(seed_built.store_dir) as store:
            push_build(backend, store.quads(), store.manifest)
        yield backend.query_url


@pytest.fixture(scope="session", params=BACKENDS)
def live_server(request: pytest.FixtureRequest, seed_built: Settings,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`kg serve` on a loopback port over the seed build, on each backend; yields its URL."""
    if request.param == "embedded":
        yield from serve(seed_built.store_dir)
        return
    backend = request.getfixturevalue("oxigraph_backend")
    yield from serve(tmp_path_factory.mktemp("remote-local"), KG_BACKEND=backend)


@pytest.fixture(scope="session")
def embedded_server(seed_built: Settings) -> Iterator[str]:
    """`kg serve` on the embedded seed store only, for tests of what only it has (its build
    folders, writes)."""
    yield from serve(seed_built.store_dir)
