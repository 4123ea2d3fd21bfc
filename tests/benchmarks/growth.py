"""How latency, throughput, memory and load time grow with the graph: a table and a plot, from
reports `bench_endpoint.py --out` wrote at several sizes (crisiskg and Oxigraph server measured
in the same run at each size).

    pip install matplotlib
    python tests/benchmarks/growth.py 100k.md 2m.md 10m.md --svg tests/benchmarks/growth.svg
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """One report: its size and the figures compared."""

    triples: int
    load_seconds: float
    cold: dict[str, list[float]]
    repeated: dict[str, list[float]]
    throughput: dict[str, float]
    memory: dict[str, float]

    def geomean(self, system: str, cold: bool = True) -> float:
        values = (self.cold if cold else self.repeated)[system]
        return math.exp(statistics.mean(math.log(v) for v in values))


def _numbers(cell: str) -> list[float]:
    return [float(x) for x in re.findall(r"[\d.]+", cell)]


def read(report: Path) -> Run:
    """The figures of one bench_endpoint report."""
    text = report.read_text(encoding="utf-8")
    head = re.match(r"([\d,]+) triples .* in ([\d.]+) s", text)
    assert head, f"{report}: not a bench_endpoint report"
    run = Run(int(head.group(1).replace(",", "")), float(head.group(2)),
              {"crisiskg": [], "oxigraph": []}, {"crisiskg": [], "oxigraph": []}, {}, {})
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and re.match(r"[a-z_]+$", cells[0]) and cells[0] != "query":
            run.cold["crisiskg"].append(_numbers(cells[2])[0])
            run.cold["oxigraph"].append(_numbers(cells[3])[0])
            run.repeated["crisiskg"].append(_numbers(cells[5])[0])
            run.repeated["oxigraph"].append(_numbers(cells[6])[0])
    throughput = re.search(r"throughput: crisiskg \*\*([\d.]+)\*\* req/s, oxigraph "
                           r"\*\*([\d.]+)\*\*", text)
    memory = re.search(r"\(PSS\): crisiskg \*\*(\d+) MiB\*\*, oxigraph \*\*(\d+) MiB", text)
    assert throughput and memory, f"{report}: no throughput or memory line"
    run.throughput = {"crisiskg": float(throughput.group(1)),
                      "oxigraph": float(throughput.group(2))}
    run.memory = {"crisiskg": float(memory.group(1)), "oxigraph": float(memory.group(2))}
    return run


def table(runs: list[Run]) -> str:
    """The growth table, in Markdown."""
    lines = ["| triples | write + optimize s | cold p50 geomean ms (crisiskg / oxigraph) | "
             "cold ratio | repeated p50 geomean ms (crisiskg / oxigraph) | 4-client req/s "
             "(crisiskg / oxigraph) | peak PSS MiB (crisiskg / oxigraph) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for run in runs:
        kc, oc = run.geomean("crisiskg"), run.geomean("oxigraph")
        kr, orr = run.geomean("crisiskg", cold=False), run.geomean("oxigraph", cold=False)
        lines.append(f"| {run.triples:,} | {run.load_seconds:.1f} | {kc:.2f} / {oc:.2f} | "
                     f"{kc / oc:.2f}x | {kr:.2f} / {orr:.2f} | "
                     f"{run.throughput['crisiskg']:.1f} / {run.throughput['oxigraph']:.1f} | "
                     f"{run.memory['crisiskg']:.0f} / {run.memory['oxigraph']:.0f} |")
    return "\n".join(lines) + "\n"


def plot(runs: list[Run], svg: Path) -> None:
    """Latency and load time against size, log-log."""
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    sizes = [run.triples for run in runs]
    figure, (latency, load) = plt.subplots(1, 2, figsize=(10, 4))
    for system, style in (("crisiskg", "o-"), ("oxigraph", "s--")):
        latency.plot(sizes, [run.geomean(system) for run in runs], style,
                     label=f"{system}, cold")
        latency.plot(sizes, [run.geomean(system, cold=False) for run in runs], style,
                     alpha=0.5, label=f"{system}, repeated")
    latency.set(xscale="log", yscale="log", xlabel="triples",
                ylabel="p50 latency, geometric mean of 13 queries (ms)")
    latency.legend()
    load.plot(sizes, [run.load_seconds for run in runs], "o-")
    load.set(xscale="log", yscale="log", xlabel="triples",
             ylabel="writing and optimizing the store (s)")
    figure.tight_layout()
    # No date in the file, so the same figures give the same bytes.
    figure.savefig(svg, metadata={"Date": None})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", type=Path, nargs="+")
    parser.add_argument("--svg", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = sorted((read(report) for report in args.reports), key=lambda run: run.triples)
    print(table(runs))
    if args.svg:
        plot(runs, args.svg)


if __name__ == "__main__":
    main()
