"""Timeouts that stop the work: a runaway query gets 503, its evaluation is killed, and other
clients are served meanwhile. Measured on a live `kg serve` with a 2-second limit."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kg.settings import Settings

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SIMPLE = "ASK { res:qassem-soleimani ckg:succeededBy res:esmail-qaani }"
TICKS = os.sysconf("SC_CLK_TCK")


@pytest.fixture(scope="module")
def quick_server(seed_built: Settings) -> Iterator[str]:
    from conftest import serve

    yield from serve(seed_built.store_dir, KG_QUERY_TIMEOUT="2")


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


def test_a_runaway_query_is_stopped_and_others_are_served(quick_server: str) -> None:
    from conftest import SERVED

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
    assert busy_cpu > 0.5, busy_cpu
    assert idle_cpu < 0.2, idle_cpu
    # The worker that timed out serves the next query with a fresh evaluator.
    again = requests.get(f"{quick_server}/sparql", params={"query": SIMPLE}, timeout=10)
    assert again.status_code == 200


def test_a_slow_reader_gets_the_whole_answer(quick_server: str) -> None:
    """The time limit is on evaluation; reading a computed answer slowly is not cut off."""
    import pyoxigraph as ox

    response = requests.get(f"{quick_server}/sparql", stream=True, timeout=30, params={
        "query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "ntriples"})
    body = b""
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        time.sleep(0.3)  # several seconds in all, past the 2-second limit
    assert len(list(ox.parse(body, ox.RdfFormat.N_TRIPLES))) > 20_000


def test_an_evaluator_dies_with_its_worker(quick_server: str) -> None:
    """If gunicorn or the kernel kills a worker, its evaluation must not run on unchecked."""
    from conftest import SERVED

    def runaway() -> None:
        with contextlib.suppress(requests.ConnectionError):  # its worker is about to be killed
            requests.get(f"{quick_server}/sparql", params={"query": RUNAWAY}, timeout=30)

    thread = threading.Thread(target=runaway)
    thread.start()
    time.sleep(1.0)
    evaluators = _descendants_named(SERVED[quick_server], "kg-query")
    busy = [pid for pid in evaluators if _cpu_ticks(pid) > 20]
    assert busy, evaluators
    worker = _parent(busy[0])
    os.kill(worker, 9)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{busy[0]}").exists() and \
            _state(busy[0]) != "Z":
        time.sleep(0.1)
    assert not Path(f"/proc/{busy[0]}").exists() or _state(busy[0]) == "Z"
    thread.join(timeout=30)


def _stat(pid: int) -> list[str]:
    return (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split())


def _state(pid: int) -> str:
    try:
        return _stat(pid)[0]
    except OSError:
        return "Z"


def _parent(pid: int) -> int:
    return int(_stat(pid)[1])


def _cpu_ticks(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12])


def _descendants_named(root: int, name: str) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if _parent(int(entry.name)) == pid:
                        todo.append(int(entry.name))
                        cmdline = (entry / "cmdline").read_bytes()
                        comm = (entry / "comm").read_text().strip()
                        if name in comm or b"multiprocessing" in cmdline:
                            found.append(int(entry.name))
                except OSError:
                    continue
    return found
