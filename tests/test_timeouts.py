"""Timeouts that stop the work: a runaway query gets 503, its evaluation is killed, and other
clients are served meanwhile. Measured on a live `kg serve` with a 2-second limit, on each
backend. On a remote one, crisiskg's worker is freed the same way, but the evaluation runs in
the backend, whose own limit must stop it (Oxigraph server 0.5.13 does not stop this one), so
each run gets a backend of its own, ended with the module."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from conftest import BACKENDS, SERVED, oxigraph_server, serve

from kg.remote import Backend, push_build
from kg.settings import Settings
from kg.store import ReadStore

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "ASK { res:qassem-soleimani ckg:succeededBy res:esmail-qaani }"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Quick:
    """A server with a 2-second limit, and whether it reads a remote backend."""

    url: str
    remote: bool


@pytest.fixture(scope="module", params=BACKENDS)
def quick(request: pytest.FixtureRequest, seed_built: Settings,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Quick]:
    if request.param == "embedded":
        for url in serve(seed_built.store_dir, KG_QUERY_TIMEOUT="2"):
            yield Quick(url, remote=False)
        return
    location = tmp_path_factory.mktemp("quick-backend") / "oxigraph"
    for backend_url in oxigraph_server(location, "--timeout-s", "3"):
        backend = Backend.at(f"{backend_url}/query")
        with ReadStore.open_current(seed_built.store_dir) as store:
            push_build(backend, store.quads(), store.manifest)
        for url in serve(tmp_path_factory.mktemp("quick-local"), KG_QUERY_TIMEOUT="2",
                         KG_BACKEND=backend.query_url):
            yield Quick(url, remote=True)


def _tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) of a process and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                todo.append(child)
    return sum(times.get(pid, 0) for pid in tree) / TICKS


def test_a_runaway_query_is_stopped_and_others_are_served(quick: Quick) -> None:
    quick_server = quick.url
    server = SERVED[quick_server]
    answers: dict[str, requests.Response] = {}

    def runaway() -> None:
        answers["runaway"] = requests.get(f"{quick_server}/sparql", params={"query": RUNAWAY},
                                          timeout=30)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(0.5)
    busy_from = _tree_cpu_seconds(server)
    simple = requests.get(f"{quick_server}/sparql", params={"query": SIMPLE}, timeout=10)
    assert simple.status_code == 200 and simple.json()["boolean"] is True
    time.sleep(1.0)
    busy_cpu = _tree_cpu_seconds(server) - busy_from  # the runaway is burning a core
    thread.join(timeout=30)

    runaway_answer = answers["runaway"]
    assert runaway_answer.status_code == 503
    assert runaway_answer.json() == {
        "error": "QueryTimeout", "problems": [],
        "message": "the query ran past the time limit of 2 s and was stopped; narrow it "
                   "(a LIMIT, more specific patterns) and retry"}
    idle_from = _tree_cpu_seconds(server)
    time.sleep(1.0)
    idle_cpu = _tree_cpu_seconds(server) - idle_from
    if not quick.remote:  # on a remote backend, the backend burns the CPU, not crisiskg
        assert busy_cpu > 0.5, busy_cpu
    assert idle_cpu < 0.2, idle_cpu
    # The worker that timed out has ended; the others (and its replacement) serve on.
    again = requests.get(f"{quick_server}/sparql", params={"query": SIMPLE}, timeout=10)
    assert again.status_code == 200


def test_a_slow_reader_gets_the_whole_answer(quick: Quick) -> None:
    """The time limit is on evaluation; reading a computed answer slowly is not cut off."""
    import pyoxigraph as ox

    quick_server = quick.url
    response = requests.get(f"{quick_server}/sparql", stream=True, timeout=30, params={
        "query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "ntriples"})
    body = b""
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        time.sleep(0.3)  # several seconds in all, past the 2-second limit
    assert len(list(ox.parse(body, ox.RdfFormat.N_TRIPLES))) > 20_000


def test_a_stopped_worker_is_replaced_and_every_worker_serves(quick: Quick) -> None:
    """The worker that ran past the limit ended; gunicorn starts another in its place."""
    quick_server = quick.url
    before = set(_children(SERVED[quick_server]))
    runaway = requests.get(f"{quick_server}/sparql", params={"query": RUNAWAY}, timeout=30)
    assert runaway.status_code == 503
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (set(_children(SERVED[quick_server])) == before
                                           or len(_children(SERVED[quick_server])) < 2):
        time.sleep(0.1)
    after = set(_children(SERVED[quick_server]))
    assert len(after) == 2 and after != before  # KG_WORKERS in conftest.serve; one replaced
    sessions = [requests.Session() for _ in range(4)]  # more clients than workers
    for turn in range(12):
        answer = sessions[turn % 4].get(f"{quick_server}/sparql", params={"query": SIMPLE},
                                        timeout=10)
        assert answer.status_code == 200 and answer.json()["boolean"] is True


def test_the_timeout_answer_carries_cors_headers(quick: Quick) -> None:
    """The 503 is the app's own response, so a browser page can read why its query failed."""
    quick_server = quick.url
    answer = requests.get(f"{quick_server}/sparql", params={"query": RUNAWAY}, timeout=30,
                          headers={"Origin": "https://example.org"})
    assert answer.status_code == 503
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Connection"] == "close"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
