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
from kg.settings import Settings
from server import create_app

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
MINI = FIXTURES / "mini"
PAIR = FIXTURES / "pair"


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


@pytest.fixture
def app(seed_built: Settings) -> Flask:
    """The app over the seed store."""
    return create_app({"KG_SETTINGS": seed_built, "TESTING": True})


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


@pytest.fixture(scope="session")
def live_server(seed_built: Settings) -> Iterator[str]:
    """`kg serve` on a loopback port over the seed store; yields its URL."""
    yield from serve(seed_built.store_dir)
