"""Benchmark: how `kg build` time grows with the number of annotated documents.

    python tests/benchmarks/bench_build.py [--copies 1 2 4 8 16] [--out results.md]

Synthetic annotated documents: each copy of the corpus adds every seed document again under
new ids (its own entities, events and claims renamed, the shared entities kept), so a copy is
as dense as the seeds. Each corpus is built from scratch in a fresh process and the time of
each phase (reading, RDF, SHACL, HermiT, the store) is read from the build's progress lines.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

CORPUS = Path(__file__).resolve().parents[2] / "kg" / "corpus"
PHASES = ("reading", "building", "checking SHACL", "checking OWL", "writing")


def _local_ids(annotation: dict[str, object]) -> set[str]:
    """Every id the document declares (its own entities, statements, claims, events)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("id"), str):
                found.add(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in annotation.items() if k != "document"})
    return found


#: Keys whose values are text from the document or about it, never ids.
_TEXT_KEYS = {"text", "quote", "label", "title", "exact", "alias", "aliases", "note"}


def _renamed(node: object, local: set[str], suffix: str, key: str = "") -> object:
    """The annotation with every value naming a local id renamed (text left as it is)."""
    if isinstance(node, dict):
        return {k: _renamed(v, local, suffix, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed(v, local, suffix, key) for v in node]
    if isinstance(node, str) and node in local and key not in _TEXT_KEYS:
        return node + suffix
    return node


def make_corpus(folder: Path, copies: int) -> int:
    """A corpus of `copies` copies of the seed documents; the number of documents."""
    shutil.copytree(CORPUS, folder)
    documents = folder / "documents"
    seeds = sorted(documents.glob("*.yaml"))
    for copy in range(1, copies):
        for seed in seeds:
            annotation = yaml.safe_load(seed.read_text(encoding="utf-8"))
            local = _local_ids(annotation)
            document = dict(annotation["document"])
            source = documents / document["text"]
            document["id"] = f"{document['id']}-c{copy}"
            document["text"] = f"{source.stem}-c{copy}{source.suffix}"
            shutil.copy(source, documents / document["text"])
            renamed = _renamed({k: v for k, v in annotation.items() if k != "document"},
                               local, f"-c{copy}")
            (documents / f"{seed.stem}-c{copy}.yaml").write_text(
                yaml.safe_dump({"document": document, **renamed}, allow_unicode=True,
                               sort_keys=False), encoding="utf-8")
    return len(list(documents.glob("*.yaml")))


def _build(corpus: Path, store: Path) -> tuple[float, dict[str, float], str]:
    env = {**os.environ, "KG_CORPUS_DIR": str(corpus), "KG_STORE_DIR": str(store)}
    started = time.perf_counter()
    # The summary goes to a file: read only at the end, a pipe could fill and stop the build.
    output = (store.parent / "summary.txt").open("w+", encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "kg", "build"], env=env, text=True,
                               stdout=output, stderr=subprocess.PIPE)
    marks: list[tuple[str, float]] = []
    assert process.stderr is not None
    for line in process.stderr:
        marks.append((line, time.perf_counter()))
    status = process.wait()
    output.seek(0)
    summary = output.read()
    output.close()
    if status != 0:
        raise RuntimeError("".join(m for m, _ in marks))
    total = time.perf_counter() - started
    phases: dict[str, float] = {}
    ends = [t for _, t in marks[1:]] + [started + total]
    for (line, at), end in zip(marks, ends, strict=True):
        for phase in PHASES:
            if line.startswith(phase):
                phases[phase] = end - at
    return total, phases, summary.splitlines()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    lines = ["| documents | quads | build s | reading | RDF | SHACL | HermiT | store |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for copies in args.copies:
        work = Path(tempfile.mkdtemp(prefix="kg-bench-build-"))
        try:
            documents = make_corpus(work / "corpus", copies)
            total, phases, summary = _build(work / "corpus", work / "store")
            quads = re.search(r"(\d+) quads", summary)
            cells = " | ".join(f"{phases.get(p, 0):.1f}" for p in PHASES)
            lines.append(f"| {documents} | {quads.group(1) if quads else '?'} | {total:.1f} | "
                         f"{cells} |")
            print(lines[-1], flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
