"""Benchmark: crisiskg's SPARQL endpoint against `oxigraph serve-read-only`, same store, one run.

    python tests/benchmarks/bench_endpoint.py [--triples 2000000] [--out results.md]

Generates synthetic data in crisiskg's ontology (events with actors, places, dates and their
evidence annotations, about 24 triples an event, with skewed popularity), writes one store, and
measures, for each query of a mix, the p50 and p95 latency of cold requests (each request text
unique, so no cache answers it) and of repeated identical requests, the throughput of 4
concurrent clients on the mix, and the peak memory (PSS, and RSS) of each server's processes. The
in-process pyoxigraph time (query plus JSON serialization) is the lower bound.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pyoxigraph as ox
import requests

from kg.namespaces import Namespaces
from kg.store import Manifest, current_build, write_build

NS = Namespaces()
CKG, RES = NS.term_prefix, NS.resource_prefix + "bench/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
PREF = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
OA = "http://www.w3.org/ns/oa#"
XSD = "http://www.w3.org/2001/XMLSchema#"
EVENT_TYPES = ["MissileStrike", "AirOrDroneStrike", "RocketAttack", "ArmedAttack", "Protest",
               "Sanction", "DiplomaticVisit", "Negotiation", "TargetedKilling", "Siege"]
TRIPLES_PER_EVENT = 24


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _zipf(rng: random.Random, size: int) -> int:
    """An index in [0, size), skewed: a few actors and places appear in most events."""
    return min(size - 1, int(size * rng.random() ** 3))


def generate(triples: int, seed: int = 7) -> Iterator[ox.Quad]:
    """Synthetic crisiskg data of about `triples` triples."""
    rng = random.Random(seed)
    events = max(1, triples // TRIPLES_PER_EVENT)
    actors, countries, cities, documents = 2000, 60, 1000, 200
    integer, date_type = _n(XSD + "integer"), _n(XSD + "date")
    graph = _n(NS.graph("bench-entities"))
    for c in range(countries):
        country = _n(f"{RES}country-{c}")
        yield ox.Quad(country, RDF_TYPE, _n(CKG + "Country"), graph)
        yield ox.Quad(country, PREF, ox.Literal(f"Country {c}", language="en"), graph)
    for c in range(cities):
        city = _n(f"{RES}city-{c}")
        yield ox.Quad(city, RDF_TYPE, _n(CKG + "City"), graph)
        yield ox.Quad(city, PREF, ox.Literal(f"City {c}", language="en"), graph)
        yield ox.Quad(city, _n(CKG + "locatedIn"), _n(f"{RES}country-{c % countries}"), graph)
    for a in range(actors):
        actor = _n(f"{RES}actor-{a}")
        kind = ("Person", "Organization", "State")[a % 3]
        yield ox.Quad(actor, RDF_TYPE, _n(CKG + kind), graph)
        yield ox.Quad(actor, LABEL, ox.Literal(f"Actor {a}", language="en"), graph)
        yield ox.Quad(actor, PREF, ox.Literal(f"Actor {a}", language="en"), graph)
    start = date(2015, 1, 1)
    for e in range(events):
        document = _n(f"{RES}document-{e % documents}")
        g = _n(NS.graph(f"bench-{e % documents}"))
        event = _n(f"{RES}event-{e}")
        day = start + timedelta(days=rng.randrange(3650))
        label = f"Event {e}"
        yield from (ox.Quad(s, p, o, g) for s, p, o in (
            (event, RDF_TYPE, _n(CKG + EVENT_TYPES[_zipf(rng, len(EVENT_TYPES))])),
            (event, LABEL, ox.Literal(label, language="en")),
            (event, PREF, ox.Literal(label, language="en")),
            (event, _n(CKG + "hasAgent"), _n(f"{RES}actor-{_zipf(rng, actors)}")),
            (event, _n(CKG + "hasTarget"), _n(f"{RES}actor-{_zipf(rng, actors)}")),
            (event, _n(CKG + "place"), _n(f"{RES}city-{_zipf(rng, cities)}")),
            (event, _n(CKG + "earliestDate"), ox.Literal(day.isoformat(), datatype=date_type)),
            (event, _n(CKG + "latestDate"), ox.Literal(day.isoformat(), datatype=date_type)),
            (event, _n(CKG + "datePrecision"), _n(CKG + "DayPrecision")),
            (event, _n(CKG + "numberKilled"), ox.Literal(str(rng.randrange(50)), datatype=integer)),
        ))
        annotation, target = _n(f"{RES}event-{e}/annotation"), _n(f"{RES}event-{e}/target")
        quote, position = _n(f"{RES}event-{e}/target#quote"), _n(f"{RES}event-{e}/target#position")
        offset = rng.randrange(20000)
        yield from (ox.Quad(s, p, o, g) for s, p, o in (
            (event, _n(CKG + "evidence"), annotation),
            (annotation, RDF_TYPE, _n(OA + "Annotation")),
            (annotation, _n(OA + "hasBody"), event),
            (annotation, _n(OA + "hasTarget"), target),
            (target, _n(OA + "hasSource"), document),
            (target, _n(OA + "hasSelector"), quote),
            (target, _n(OA + "hasSelector"), position),
            (quote, RDF_TYPE, _n(OA + "TextQuoteSelector")),
            (quote, _n(OA + "exact"), ox.Literal(f"the words that report event {e}")),
            (position, _n(OA + "start"), ox.Literal(str(offset), datatype=integer)),
            (position, _n(OA + "end"), ox.Literal(str(offset + 31), datatype=integer)),
            (annotation, _n(OA + "motivatedBy"), _n(OA + "describing")),
            (position, RDF_TYPE, _n(OA + "TextPositionSelector")),
            (target, RDF_TYPE, _n(OA + "SpecificResource")),
        ))


PREFIXES = (f"PREFIX ckg: <{CKG}> PREFIX b: <{RES}> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ")
#: The query mix: small lookups, timelines, aggregates, paths, CONSTRUCTs, one large result.
QUERIES: dict[str, str] = {
    "ask_entity": "ASK { <ACTOR1> a ?type }",
    "lookup_label": "SELECT ?label WHERE { b:actor-17 skos:prefLabel ?label }",
    "entity_statements": "SELECT ?p ?o WHERE { b:event-123 ?p ?o }",
    "timeline_actor": "SELECT ?e ?d WHERE { ?e ckg:hasAgent b:actor-3 ; ckg:earliestDate ?d } "
                      "ORDER BY ?d",
    "events_in_month": "SELECT ?e ?l WHERE { ?e ckg:earliestDate ?d ; rdfs:label ?l "
                       'FILTER(?d >= "2019-05-01"^^xsd:date && ?d < "2019-06-01"^^xsd:date) }',
    "count_by_type": "SELECT ?t (COUNT(?e) AS ?n) WHERE { ?e a ?t ; ckg:earliestDate ?d } "
                     "GROUP BY ?t ORDER BY DESC(?n)",
    "count_by_month": "SELECT ?m (COUNT(?e) AS ?n) WHERE { ?e ckg:earliestDate ?d "
                      "BIND(SUBSTR(STR(?d), 1, 7) AS ?m) } GROUP BY ?m ORDER BY ?m",
    "events_in_country": "SELECT ?e WHERE { ?e ckg:place/ckg:locatedIn* b:country-1 }",
    "co_actors": "SELECT ?other (COUNT(?e) AS ?n) WHERE { ?e ckg:hasAgent b:actor-5 ; "
                 "ckg:hasTarget ?other } GROUP BY ?other ORDER BY DESC(?n) LIMIT 10",
    "construct_event": "CONSTRUCT WHERE { b:event-5 ?p ?o }",
    "describe_actor": "DESCRIBE b:actor-9",
    "label_search": "SELECT ?e WHERE { ?e rdfs:label ?l "
                    'FILTER(CONTAINS(LCASE(?l), "event 1234")) }',
    "large_result": "SELECT ?e ?l ?d WHERE { ?e a ckg:MissileStrike ; rdfs:label ?l ; "
                    "ckg:earliestDate ?d }",
}


def _query(name: str) -> str:
    return PREFIXES + QUERIES[name].replace("<ACTOR1>", "b:actor-1")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.returncode}")
        try:
            requests.get(url, params={"query": "ASK {}"}, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def _memory_tree_kib(root: int) -> tuple[int, int]:
    """RSS and PSS of a process and all its descendants, in KiB. RSS counts a page shared by
    forked processes (gunicorn's workers) once in each; PSS divides it among them."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
    tree, todo = {root}, [root]
    while todo:
        pid = todo.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                todo.append(child)
    rss = pss = 0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1])
            elif line.startswith("Pss:"):
                pss += int(line.split()[1])
    return rss, pss


@dataclass
class Server:
    """A server under test: its name, query URL and process, and its peak memory."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    peak_rss_kib: int = 0
    peak_pss_kib: int = 0
    _sampling: bool = field(default=True, repr=False)

    def sample_memory(self) -> None:
        while self._sampling:
            rss, pss = _memory_tree_kib(self.process.pid)
            self.peak_rss_kib = max(self.peak_rss_kib, rss)
            self.peak_pss_kib = max(self.peak_pss_kib, pss)
            time.sleep(0.1)

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        self.process.wait(timeout=20)


def _latencies(url: str, name: str, repeats: int, cold: bool) -> list[float]:
    session = requests.Session()
    times = []
    for i in range(repeats + 1):
        text = _query(name) + (f"\n# {time.time_ns()}-{i}" if cold else "")
        started = time.perf_counter()
        response = session.get(url, params={"query": text},
                               headers={"Accept": "application/sparql-results+json, "
                                                  "text/turtle;q=0.9"}, timeout=120)
        response.content  # noqa: B018 - read the whole answer
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{name} on {url}: {response.status_code} {response.text[:200]}")
        if i:  # the first one warms up
            times.append(elapsed)
    return times


def _throughput(url: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        session = requests.Session()
        names = list(QUERIES)
        rng = random.Random(index)
        while time.monotonic() < stop:
            name = names[rng.randrange(len(names))]
            text = _query(name) + f"\n# {index}-{done[index]}"
            session.get(url, params={"query": text}, timeout=120).content  # noqa: B018
            done[index] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


#: A do-nothing HTTP/1.1 server (the standard library's), to measure what the client and the
#: loopback cost on their own: the part of every latency no server can remove.
_FLOOR_SERVER = """
import http.server, sys
class Ok(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Ok).serve_forever()
"""


def _floor(repeats: int) -> float:
    """p50 latency of a small query sent to a server that does nothing."""
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", _FLOOR_SERVER, str(port)])
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        _wait(url, process)
        return statistics.median(_latencies(url, "ask_entity", repeats * 20, cold=True))
    finally:
        process.terminate()
        process.wait(timeout=20)


def _in_process(store_path: Path, repeats: int) -> dict[str, float]:
    store = ox.Store.read_only(str(store_path))
    result = {}
    for name in QUERIES:
        times = []
        for i in range(repeats + 1):
            started = time.perf_counter()
            answer = store.query(_query(name))
            buffer = io.BytesIO()
            if isinstance(answer, ox.QueryTriples):
                answer.serialize(buffer, ox.RdfFormat.TURTLE)
            else:
                answer.serialize(buffer, ox.QueryResultsFormat.JSON)
            if i:
                times.append(time.perf_counter() - started)
        result[name] = statistics.median(times)
    return result


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="kg-bench-"))
    try:
        started = time.perf_counter()
        quads = list(generate(args.triples))
        write_build(work, "20000101T000000000000Z-bench", quads,
                    Manifest("bench", "bench", "2000-01-01T00:00:00+00:00", {}))
        load_seconds = time.perf_counter() - started
        build = current_build(work)
        assert build is not None
        oxigraph_store = build / "oxigraph"
        servers: list[Server] = []
        port = _free_port()
        kg_process = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "KG_STORE_DIR": str(work), "KG_PORT": str(port),
                 "KG_WORKERS": str(args.workers), "KG_HOST": "127.0.0.1"})
        servers.append(Server("crisiskg", f"http://127.0.0.1:{port}/sparql", kg_process))
        port = _free_port()
        oxigraph = shutil.which("oxigraph")
        if oxigraph is None:
            raise SystemExit("install the peer first: pip install oxigraph==0.5.13")
        ox_process = subprocess.Popen(
            [oxigraph, "serve-read-only", "--location", str(oxigraph_store), "--bind",
             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(Server("oxigraph", f"http://127.0.0.1:{port}/query", ox_process))
        for server in servers:
            _wait(server.url, server.process)
            threading.Thread(target=server.sample_memory, daemon=True).start()

        in_process = _in_process(oxigraph_store, args.repeats)
        floor = _floor(args.repeats)
        cold: dict[str, dict[str, list[float]]] = {s.name: {} for s in servers}
        repeated: dict[str, dict[str, list[float]]] = {s.name: {} for s in servers}
        for name in QUERIES:
            for server in servers:
                cold[server.name][name] = _latencies(server.url, name, args.repeats, cold=True)
                repeated[server.name][name] = _latencies(server.url, name, args.repeats,
                                                         cold=False)
        throughput = {s.name: _throughput(s.url, args.clients, args.seconds) for s in servers}
        for server in servers:
            server.stop()
        report = _report(args, len(quads), load_seconds, in_process, floor, cold, repeated,
                         throughput, {s.name: (s.peak_pss_kib, s.peak_rss_kib) for s in servers})
        print(report)
        if args.out:
            args.out.write_text(report, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _report(args: argparse.Namespace, triples: int, load_seconds: float,
            in_process: dict[str, float], floor: float,
            cold: dict[str, dict[str, list[float]]],
            repeated: dict[str, dict[str, list[float]]], throughput: dict[str, float],
            memory: dict[str, tuple[int, int]]) -> str:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.2f}"

    lines = [f"{triples:,} triples (quads, plus their union as the default graph), written and "
             f"optimized in {load_seconds:.1f} s; {args.repeats} requests a query a system, "
             f"{args.workers} crisiskg workers.", "",
             "| query | in-process p50 ms | crisiskg cold p50 / p95 ms "
             "| oxigraph cold p50 / p95 ms | cold ratio | crisiskg repeated p50 ms "
             "| oxigraph repeated p50 ms | repeated speed-up |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    ratios, speedups, overheads, peer_overheads = [], [], [], []
    for name in QUERIES:
        kc, oc = cold["crisiskg"][name], cold["oxigraph"][name]
        kr, orr = repeated["crisiskg"][name], repeated["oxigraph"][name]
        ratio = statistics.median(kc) / statistics.median(oc)
        speedup = statistics.median(orr) / statistics.median(kr)
        ratios.append(ratio)
        speedups.append(speedup)
        overheads.append(statistics.median(kc) - in_process[name])
        peer_overheads.append(statistics.median(oc) - in_process[name])
        lines.append(f"| {name} | {ms(in_process[name])} | {ms(statistics.median(kc))} / "
                     f"{ms(_p(kc, 0.95))} | {ms(statistics.median(oc))} / {ms(_p(oc, 0.95))} | "
                     f"{ratio:.2f}x | {ms(statistics.median(kr))} | {ms(statistics.median(orr))} "
                     f"| {speedup:.1f}x |")
    geo = math.exp(statistics.mean(math.log(r) for r in ratios))
    geo_speedup = math.exp(statistics.mean(math.log(s) for s in speedups))
    small = [o for n, o in zip(QUERIES, overheads, strict=True)
             if n in ("ask_entity", "lookup_label")]
    peer_small = [o for n, o in zip(QUERIES, peer_overheads, strict=True)
                  if n in ("ask_entity", "lookup_label")]
    lines += ["", f"- cold p50 geometric mean, crisiskg / oxigraph: **{geo:.2f}x** "
              "(target <= 1.0x)",
              f"- small queries (ask_entity, lookup_label), overhead over in-process: "
              f"**{ms(max(small))} ms** at most (target <= 0.5 ms); oxigraph's: "
              f"{ms(max(peer_small))} ms. Of that, the client and the loopback alone (a "
              f"do-nothing HTTP server) take {ms(floor)} ms; without them crisiskg adds "
              f"**{ms(max(small) - floor)} ms**, oxigraph {ms(max(peer_small) - floor)} ms",
              "- repeated queries, geometric mean speed-up over oxigraph: "
              f"**{geo_speedup:.1f}x** (target >= 10x)",
              f"- {args.clients}-client throughput: crisiskg "
              f"**{throughput['crisiskg']:.1f}** req/s, oxigraph "
              f"**{throughput['oxigraph']:.1f}** req/s (target: crisiskg >= oxigraph)",
              "- peak memory of all server processes (PSS): crisiskg "
              f"**{memory['crisiskg'][0] / 1024:.0f} MiB**, oxigraph "
              f"**{memory['oxigraph'][0] / 1024:.0f} MiB** (target <= 2x); summed RSS, which "
              f"counts pages the workers share once in each: crisiskg "
              f"{memory['crisiskg'][1] / 1024:.0f} MiB, oxigraph "
              f"{memory['oxigraph'][1] / 1024:.0f} MiB"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
