"""Benchmark: `kg load` against `oxigraph load` on the same N-Triples file, one run.

    python tests/benchmarks/bench_load.py [--triples 2000000] [--out results.md]

Writes synthetic crisiskg data (bench_endpoint's generator) as one N-Triples file, then times,
each as a fresh process on an empty store: `oxigraph load` into a named graph (what `kg load`
makes of a file) and into the default graph, and `kg load` (which also adds every triple to
the default graph, the union queries read, and compacts the store). Throughput is triples of
the file per second of wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_endpoint import generate

from kg.store import Manifest, write_build


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    oxigraph = shutil.which("oxigraph")
    if oxigraph is None:
        raise SystemExit("install the peer first: pip install oxigraph==0.5.13")
    work = Path(tempfile.mkdtemp(prefix="kg-bench-load-"))
    try:
        data = work / "data.nt"
        with data.open("wb") as out:
            count = 0
            for quad in generate(args.triples):
                out.write(ox.serialize([ox.Triple(quad.subject, quad.predicate, quad.object)],
                                       format=ox.RdfFormat.N_TRIPLES) or b"")
                count += 1
        graph = "https://example.org/graph/data"
        times = {
            "oxigraph load --graph": _timed([oxigraph, "load", "--location", str(work / "o1"),
                                             "--file", str(data), "--graph", graph]),
            "oxigraph load (default graph)": _timed([oxigraph, "load", "--location",
                                                     str(work / "o2"), "--file", str(data)]),
        }
        store = work / "kg"
        write_build(store, "20000101T000000000000Z-empty", [],
                    Manifest("empty", "empty", "2000-01-01T00:00:00+00:00", {}))
        times["kg load"] = _timed([sys.executable, "-m", "kg", "load", str(data)],
                                  env={**os.environ, "KG_STORE_DIR": str(store)})
        peer = times["oxigraph load --graph"]
        lines = [f"{count:,} triples in one N-Triples file ({data.stat().st_size / 2**20:.0f} "
                 "MiB), each load a fresh process on an empty store.", "",
                 "| loader | seconds | triples/s | vs oxigraph load --graph |",
                 "| --- | --- | --- | --- |"]
        for name, seconds in times.items():
            lines.append(f"| {name} | {seconds:.1f} | {count / seconds:,.0f} | "
                         f"{peer / seconds:.2f}x |")
        report = "\n".join(lines) + "\n"
        print(report)
        if args.out:
            args.out.write_text(report, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
