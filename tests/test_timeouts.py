"""Timeouts that stop the work: a runaway query gets 503, its evaluation is killed, and other
clients are served meanwhile. Measured on a live `kg serve` with a 2-second limit."""

from __future__ import annotations

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
