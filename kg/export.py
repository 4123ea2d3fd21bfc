"""Export: the graph, or part of it, as a file in any RDF format, the same bytes every time.

Determinism is what lets a dump diff cleanly in git: blank nodes are relabelled by RDFC-1.0
(pyoxigraph's implementation), statements are sorted by subject (its rdf:type first),
predicate and object, and the header holds nothing that changes between identical graphs.
pyoxigraph writes every format; this module only chooses, orders and labels what it writes.

Where the data holds RDF 1.2 triple terms (a SPARQL Update may write them), `rdf11=True`
rewrites each as an `rdf:Statement` node (RDF 1.1 reification), so RDF 1.1 tools read the
file; the header says which the file is.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any, NamedTuple

import pyoxigraph as ox

from kg.errors import NotFound, QueryError, SettingsError
from kg.namespaces import Namespaces
from kg.store import GraphStore

__all__ = ["EXPORT_FORMATS", "Export", "ExportFormat", "export",
           "format_for_path", "gzipped", "jsonld_context", "write_export"]

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_TYPE = ox.NamedNode(_RDF + "type")
_REIFIES = ox.NamedNode(_RDF + "reifies")


class ExportFormat(NamedTuple):
    """A format `kg export` writes: pyoxigraph's format, and how a header is written in it."""

    rdf_format: ox.RdfFormat
    comment: str | None  # how a header line starts; None: the format has no comments
    triple_terms: bool = True  # whether it can hold RDF 1.2 triple terms


#: The formats by the names the command line uses.
EXPORT_FORMATS: dict[str, ExportFormat] = {
    "turtle": ExportFormat(ox.RdfFormat.TURTLE, "# "),
    "trig": ExportFormat(ox.RdfFormat.TRIG, "# "),
    "ntriples": ExportFormat(ox.RdfFormat.N_TRIPLES, "# "),
    "nquads": ExportFormat(ox.RdfFormat.N_QUADS, "# "),
    "rdfxml": ExportFormat(ox.RdfFormat.RDF_XML, "<!-- "),
    "jsonld": ExportFormat(ox.RdfFormat.JSON_LD, None, triple_terms=False),  # nor comments
}
#: Graph names that are not documents.
SPECIAL_GRAPHS = ("ontology", "inferred", "links")


@dataclass(frozen=True)
class Export:
    """What was exported: the file's bytes (uncompressed) and what they hold."""

    data: bytes
    statements: int
    rdf12: bool  # whether the file holds triple terms


def format_for_path(path: Path) -> str | None:
    """The export format a file name asks for (`.ttl`, `.nq.gz`, ...), if any."""
    name = path.name.removesuffix(".gz")
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    rdf_format = ox.RdfFormat.from_extension(extension) if extension else None
    return next((n for n, f in EXPORT_FORMATS.items() if f.rdf_format == rdf_format), None)


def export(store: GraphStore, ns: Namespaces, fmt: str = "turtle", graphs: Iterable[str] = (),
           construct: str | None = None, rdf11: bool = False) -> Export:
    """Serialize the chosen graphs (default: all) or a CONSTRUCT query's triples."""
    chosen = EXPORT_FORMATS[fmt]
    if construct is not None:
        quads = list(_constructed(store, ns, construct))
        names: tuple[str, ...] = ()
    else:
        names = _graph_iris(store, ns, tuple(graphs) or ("all",))
        quads = [q for name in names for q in store.quads(name)]
    if not chosen.rdf_format.supports_datasets:
        # One graph of triples: the union of those chosen, each triple once.
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in
                 dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads)]
    rewritten = rdf11 and any(_has_triple_term(q) for q in quads)
    if rewritten:
        quads = list(_as_rdf11(quads))
    rdf12 = any(_has_triple_term(q) for q in quads)
    if rdf12 and not chosen.triple_terms:
        raise QueryError(f"the data holds RDF 1.2 triple terms, which {fmt} cannot: export with "
                         "--rdf11 to rewrite them as rdf:Statement nodes")
    if fmt == "rdfxml":
        _check_xml_names(quads)
    quads = _canonical(quads)
    body = ox.serialize(quads, format=chosen.rdf_format, prefixes=ns.prefixes())
    assert body is not None
    if fmt == "jsonld":
        body = _compacted(body, ns)
    header = _header(ns, store, fmt, len(quads), names, construct is not None, rewritten,
                     rdf12)
    return Export(_with_header(body, header, chosen), len(quads), rdf12)


def write_export(exported: Export, output: Path | None, stream: IO[bytes] | None = None
                 ) -> None:
    """Write to `output` (gzip-compressed if it ends in .gz), or to `stream`."""
    if output is None:
        assert stream is not None
        stream.write(exported.data)
        return
    # Beside it under this process's name, then renamed: never half a file, and two processes
    # writing the same export do not trip over each other.
    partial = output.with_name(f"{output.name}.{os.getpid()}.partial")
    try:
        partial.write_bytes(gzipped(exported.data) if output.suffix == ".gz" else exported.data)
        partial.replace(output)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise SettingsError(f"cannot write {output}: {error.strerror or error}; choose a folder "
                          "that exists and that you may write to") from None


def gzipped(data: bytes) -> bytes:
    """gzip-compressed, with no name or time in the header: the same bytes give the same
    file."""
    return gzip.compress(data, mtime=0)


def _graph_iris(store: GraphStore, ns: Namespaces, names: tuple[str, ...]) -> tuple[str, ...]:
    present = store.named_graphs()
    if "all" in names:
        return tuple(present)
    iris = []
    for name in names:
        iri = name if name.startswith(ns.graph("")) else ns.graph(name)
        if iri not in present:
            documents = [g.removeprefix(ns.graph("")) for g in present
                         if g.removeprefix(ns.graph("")) not in SPECIAL_GRAPHS]
            raise NotFound(f"no graph {name!r} in the store; choose all, "
                           f"{', '.join(SPECIAL_GRAPHS)}, or a document: {', '.join(documents)}")
        iris.append(iri)
    return tuple(dict.fromkeys(iris))


def _constructed(store: GraphStore, ns: Namespaces, query: str) -> Iterator[ox.Quad]:
    result = store.query(query, prefixes=ns.prefixes())
    if not isinstance(result, ox.QueryTriples):
        raise QueryError("--query needs a CONSTRUCT (or DESCRIBE) query: it makes the triples "
                         "to export")
    for triple in result:
        yield ox.Quad(triple.subject, triple.predicate, triple.object)


# RDF/XML writes a predicate as an XML element: its IRI must end in a name XML allows.
_XML_NAME_END = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*$")


def _check_xml_names(quads: list[ox.Quad]) -> None:
    for quad in quads:
        if not _XML_NAME_END.search(quad.predicate.value):
            raise QueryError(f"the property <{quad.predicate.value}> cannot be written in "
                             "RDF/XML (its IRI does not end in an XML name): export as "
                             "Turtle, TriG, N-Triples, N-Quads or JSON-LD")


def _has_triple_term(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple)


def _as_rdf11(quads: list[ox.Quad]) -> Iterator[ox.Quad]:
    """Triple terms rewritten as rdf:Statement nodes; `r rdf:reifies <<( s p o )>>` makes r the
    statement itself."""
    reified: dict[tuple[str, str], set[str]] = {}
    for quad in quads:
        if quad.predicate == _REIFIES and isinstance(quad.object, ox.Triple):
            reified.setdefault((str(quad.subject), str(quad.graph_name)), set()).add(
                str(quad.object))
    for (reifier, _), triples in reified.items():
        if len(triples) > 1:
            # A statement node has one subject, predicate and object; two would mix them up.
            raise QueryError(f"{reifier} reifies {len(triples)} triples, which RDF 1.1 "
                             "reification cannot say; give each triple its own reifier, or "
                             "export without --rdf11 as Turtle, TriG, N-Triples or N-Quads")
    for quad in quads:
        subject, object_ = quad.subject, quad.object
        if isinstance(subject, ox.Triple):  # RDF-star's subject position, which 1.2 dropped
            node = _statement_node(subject)
            yield from _statement(node, subject, quad.graph_name)
            subject = node
        if quad.predicate == _REIFIES and isinstance(object_, ox.Triple):
            yield from _statement(subject, object_, quad.graph_name)
            continue
        if isinstance(object_, ox.Triple):
            node = _statement_node(object_)
            yield from _statement(node, object_, quad.graph_name)
            object_ = node
        yield ox.Quad(subject, quad.predicate, object_, quad.graph_name)


def _statement_node(triple: ox.Triple) -> ox.BlankNode:
    # The same triple term gets the same node, wherever it occurs (relabelled canonically later).
    return ox.BlankNode("t" + hashlib.sha256(str(triple).encode()).hexdigest()[:32])


def _statement(node: ox.NamedNode | ox.BlankNode, triple: ox.Triple,
               graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> Iterator[ox.Quad]:
    parts: list[ox.NamedNode | ox.BlankNode | ox.Literal] = []
    for term in (triple.subject, triple.predicate, triple.object):
        if isinstance(term, ox.Triple):
            inner = _statement_node(term)
            yield from _statement(inner, term, graph)
            parts.append(inner)
        else:
            parts.append(term)
    yield ox.Quad(node, _TYPE, ox.NamedNode(_RDF + "Statement"), graph)
    for name, term in zip(("subject", "predicate", "object"), parts, strict=True):
        yield ox.Quad(node, ox.NamedNode(_RDF + name), term, graph)


def _canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    """Blank nodes relabelled by RDFC-1.0, duplicates dropped, in a stable, readable order."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=lambda q: (str(q.graph_name), str(q.subject),
                                          q.predicate != _TYPE, str(q.predicate), str(q.object)))


def jsonld_context(ns: Namespaces) -> dict[str, Any]:
    """The JSON-LD context of the exports (and of /context.jsonld): the project's prefixes."""
    return {"@context": ns.prefixes()}


def _compacted(expanded: bytes, ns: Namespaces) -> bytes:
    """pyoxigraph's expanded JSON-LD, compacted by PyLD with the project's context, so that
    `res:tehran` and `ckg:locatedIn` read as they do in Turtle."""
    from pyld import jsonld  # only JSON-LD exports need it

    compact = jsonld.compact(json.loads(expanded), jsonld_context(ns))
    return json.dumps(compact, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def _header(ns: Namespaces, store: GraphStore, fmt: str, count: int, graphs: tuple[str, ...],
            constructed: bool, rewritten: bool, rdf12: bool) -> list[str]:
    what = ("the triples of a CONSTRUCT query" if constructed
            else "all graphs" if set(graphs) == set(store.named_graphs())
            else "graphs " + ", ".join(g.removeprefix(ns.graph("")) for g in graphs))
    unit = "quads" if EXPORT_FORMATS[fmt].rdf_format.supports_datasets else "triples"
    if rdf12:
        kind = ("RDF 1.2: holds triple terms; `kg export --rdf11` writes an RDF 1.1 file")
    elif rewritten:
        kind = "RDF 1.1: triple terms rewritten as rdf:Statement nodes (--rdf11)"
    else:
        kind = "RDF 1.1: no triple terms"
    return [
        f"crisiskg export of {what}: {count} {unit}, {fmt}",
        f"dataset {ns.base} version {store.manifest.dataset_version}, "
        f"made by crisiskg {metadata.version('crisiskg')}",
        kind,
        "blank nodes labelled by RDFC-1.0 and statements sorted: the same graph, the same bytes",
    ]


def _with_header(body: bytes, lines: list[str], chosen: ExportFormat) -> bytes:
    if chosen.comment is None:
        return body
    if chosen.comment == "<!-- ":
        declaration, _, rest = body.partition(b"\n")
        comment = "".join(f"<!-- {line.replace('--', '- -')} -->\n" for line in lines)
        return declaration + b"\n" + comment.encode() + rest
    return "".join(f"{chosen.comment}{line}\n" for line in lines).encode() + body
