"""The answer cache: small answers in each worker's memory, large ones on disk for all workers."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import requests

from kg.settings import Settings
from kg.store import current_build
from server.cache import AnswerCache, CachedAnswer, StoredAnswer

EVERYTHING = "CONSTRUCT WHERE { ?s ?p ?o }"


def _hits(live_server: str) -> float:
    for line in requests.get(f"{live_server}/metrics", timeout=10).text.splitlines():
        if line.startswith('kg_sparql_answers_total{outcome="cache_hit"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_large_answer_is_kept_on_disk_and_served_to_every_worker(
        embedded_server: str, seed_built: Settings) -> None:
    parameters = {"query": EVERYTHING, "format": "ntriples"}
    first = requests.get(f"{embedded_server}/sparql", params=parameters, timeout=60)
    assert first.status_code == 200 and len(first.content) > 1024 * 1024  # past the memory tier
    build = current_build(seed_built.store_dir)
    assert build is not None
    assert (build / "answers" / first.headers["ETag"].strip('"')).is_file()
    hits = _hits(embedded_server)
    # Several clients, so both workers answer: each finds the answer the other stored.
    for _ in range(4):
        again = requests.get(f"{embedded_server}/sparql", params=parameters, timeout=60)
        assert again.status_code == 200 and again.content == first.content
        assert again.headers["Content-Type"] == "application/n-triples"
        assert again.headers["ETag"] == first.headers["ETag"]
    assert _hits(embedded_server) - hits == 4
    assert len(list(ox.parse(first.content, ox.RdfFormat.N_TRIPLES))) > 20_000


def test_a_small_answer_stays_in_memory(tmp_path: Path) -> None:
    cache = AnswerCache(max_bytes=100, max_answer_bytes=50, disk_bytes=1000)
    cache.put("small", tmp_path, CachedAnswer(b"x" * 50, "text/plain", False))
    assert cache.get("small", tmp_path) == CachedAnswer(b"x" * 50, "text/plain", False)
    assert not (tmp_path / "answers").exists()


def test_memory_and_disk_are_bounded(tmp_path: Path) -> None:
    cache = AnswerCache(max_bytes=100, max_answer_bytes=50, disk_bytes=300)
    for name in "abc":
        cache.put(name, tmp_path, CachedAnswer(name.encode() * 40, "text/plain", False))
    assert cache.get("a", tmp_path) is None  # evicted from memory: 120 bytes > 100
    assert cache.get("c", tmp_path) is not None
    for name in "defg":
        cache.put(name, tmp_path, CachedAnswer(name.encode() * 120, "text/csv", True))
    on_disk = sorted(p.name for p in (tmp_path / "answers").iterdir())
    assert sum((tmp_path / "answers" / n).stat().st_size for n in on_disk) <= 300
    assert "g" in on_disk and len(on_disk) == 2  # the oldest went first
    stored = cache.get("g", tmp_path)
    assert isinstance(stored, StoredAnswer)
    assert (stored.media_type, stored.truncated, stored.length) == ("text/csv", True, 120)
    assert stored.file.read() == b"g" * 120
    stored.file.close()
    assert cache.get("h", tmp_path) is None


def test_a_cache_that_cannot_write_only_caches_less(tmp_path: Path) -> None:
    (tmp_path / "answers").write_text("a file where the folder would be")
    cache = AnswerCache(max_bytes=100, max_answer_bytes=10, disk_bytes=1000)
    cache.put("big", tmp_path, CachedAnswer(b"x" * 50, "text/plain", False))
    assert cache.get("big", tmp_path) is None
