"""The build pipeline: annotations, RDF, SHACL, HermiT, then a new store switched to on success."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pyoxigraph as ox

from kg.annotations import ENTITIES_FILE, LINKS_FILE, load_corpus
from kg.corpus import Corpus
from kg.loading import version_with_loaded
from kg.namespaces import Namespaces
from kg.rdf import BuiltGraph, build_graph
from kg.reasoner import reason
from kg.settings import Settings
from kg.shapes import check_shapes
from kg.store import Manifest, ReadStore, current_build, write_build
from kg.vocabulary import Vocabulary, ontology_text, shapes_text

__all__ = ["BuildReport", "build", "dataset_version", "validate_corpus"]

Progress = Callable[[str], None]


@dataclass
class BuildReport:
    """What a build or validation produced, for the summary the CLI prints."""

    documents: int = 0
    quads: int = 0
    inferred: int = 0
    by_class: dict[str, int] = field(default_factory=dict)
    mentions: int = 0
    statements: int = 0
    claims: int = 0
    seconds: float = 0.0
    store: Path | None = None
    dataset_version: str = ""
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A short human summary."""
        lines = [
            f"{'built' if self.store else 'valid'}: {self.documents} documents, "
            f"{self.quads} quads ({self.inferred} inferred), {self.mentions} mentions, "
            f"{self.statements} statements, {self.claims} claims in {self.seconds:.1f} s",
        ]
        if self.store:
            lines.append(f"store: {self.store} (dataset version {self.dataset_version})")
        lines.append("entities by class:")
        lines += [f"  {name:<28} {count:>5}" for name, count in sorted(self.by_class.items())]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)


def dataset_version(corpus: Corpus, ns: Namespaces) -> str:
    """A hash of everything a build depends on: texts, annotations, ontology, shapes, base IRI,
    and the versions of the software that turns them into the graph."""
    digest = hashlib.sha256(ns.base.encode())
    for package in ("crisiskg", "pyoxigraph", "owlready2"):
        digest.update(f"{package}=={metadata.version(package)}".encode())
    for part in (ontology_text(ns), shapes_text(ns)):
        digest.update(part.encode("utf-8"))
    paths = {d.annotation_path for d in corpus.documents} | {d.text_path for d in corpus.documents}
    corpus_dir = next(iter(corpus.documents)).annotation_path.parent.parent
    paths |= {p for p in (corpus_dir / ENTITIES_FILE, corpus_dir / LINKS_FILE) if p.exists()}
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _compile(settings: Settings, progress: Progress) -> tuple[Corpus, BuiltGraph, list[ox.Quad],
                                                             BuildReport]:
    started = time.monotonic()
    ns = Namespaces(settings.base_iri)
    vocabulary = Vocabulary.load(ns)
    progress(f"reading annotations in {settings.corpus_dir}")
    corpus = load_corpus(settings.corpus_dir, vocabulary)
    progress(f"building RDF for {len(corpus.documents)} documents")
    built = build_graph(corpus, vocabulary, ns)
    progress(f"checking SHACL shapes on {len(built.quads)} quads")
    check_shapes(built.quads, ns, built.origins)
    progress("checking OWL consistency with HermiT")
    ontology = [ox.Triple(q.subject, q.predicate, q.object)
                for q in built.graph(ns.graph("ontology"))]
    data = [q for q in built.quads if q.graph_name != ox.NamedNode(ns.graph("ontology"))]
    result = reason(ontology, data, ns, built.origins)
    inferred_graph = ox.NamedNode(ns.graph("inferred"))
    inferred = [ox.Quad(t.subject, t.predicate, t.object, inferred_graph) for t in result.inferred]
    report = BuildReport(
        documents=len(corpus.documents),
        quads=len(built.quads) + len(inferred),
        inferred=len(inferred) + len(built.graph(ns.graph("inferred"))),
        by_class=dict(Counter(t for e in corpus.entities.values() for t in e.types)),
        mentions=sum(len(d.mentions) for d in corpus.documents),
        statements=sum(len(d.statements) for d in corpus.documents),
        claims=sum(len(d.claims) for d in corpus.documents),
        dataset_version=dataset_version(corpus, ns),
        warnings=list(corpus.warnings),
    )
    report.seconds = time.monotonic() - started
    return corpus, built, inferred, report


def validate_corpus(settings: Settings, progress: Progress = lambda _: None) -> BuildReport:
    """Run every check of a build without writing a store."""
    return _compile(settings, progress)[3]


def build(settings: Settings, progress: Progress = lambda _: None) -> BuildReport:
    """Build the graph and switch the store to it; the old store stays if anything fails."""
    started = time.monotonic()
    _, built, inferred, report = _compile(settings, progress)
    now = datetime.now(UTC)
    build_id = now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + report.dataset_version[:8]
    progress(f"writing the store ({report.quads} quads) to {settings.store_dir}")
    previous = current_build(settings.store_dir)
    with contextlib.ExitStack() as stack:
        # Graphs `kg load` added to the build before are carried over, as they were.
        before = stack.enter_context(ReadStore(previous)) if previous is not None else None
        loaded = before.manifest.loaded if before is not None else {}
        if loaded:
            progress(f"carrying over {len(loaded)} loaded graphs")
        corpus_version = report.dataset_version
        report.dataset_version = version_with_loaded(corpus_version, loaded)
        loaded_quads = sum(int(facts.get("quads", 0)) for facts in loaded.values())
        manifest = Manifest(build_id=build_id, dataset_version=report.dataset_version,
                            created=now.isoformat(timespec="seconds"),
                            counts={"quads": report.quads + loaded_quads,
                                    "documents": report.documents,
                                    "entities_by_class": report.by_class,
                                    "corpus_version": corpus_version},
                            loaded=loaded)
        carried = [functools.partial(before.quads, graph) for graph in loaded] \
            if before is not None else []
        report.store = write_build(settings.store_dir, build_id, [*built.quads, *inferred],
                                   manifest, carried)
    report.seconds = time.monotonic() - started
    return report
