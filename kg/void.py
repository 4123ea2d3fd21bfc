"""The dataset's description in VoID and DCAT: what it is, who made it, from what, how big.

Counts and partitions are read from the store, so the description always fits the build it
describes. Where the dataset is served from (the SPARQL endpoint, the dumps) is given by the
caller: the server knows its own address, a release folder names its files.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyoxigraph as ox

from kg.namespaces import EXTERNAL_PREFIXES, Namespaces
from kg.store import GraphStore

__all__ = ["VOID_PREFIXES", "access_facts", "dataset_description", "dataset_facts",
           "dataset_iri", "in_reading_order"]

_VOID = "http://rdfs.org/ns/void#"
_DCAT = "http://www.w3.org/ns/dcat#"
_DCT = EXTERNAL_PREFIXES["dcterms"]
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
_IANA = "https://www.iana.org/assignments/media-types/"
#: Prefixes for serializing the description.
VOID_PREFIXES = {"void": _VOID, "dcat": _DCAT, "dcterms": _DCT, "xsd": _XSD}

_CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"
_PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
_SIZES = """SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects)
                   (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }"""
_ENTITIES = """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type
                 FILTER(STRSTARTS(STR(?s), STR(res:)) && STRSTARTS(STR(?type), STR(ckg:))) }"""
_SOURCES = "SELECT ?doc WHERE { ?doc a ckg:SourceDocument } ORDER BY ?doc"
# The best connected actors, places and events: where a newcomer would start looking.
_EXAMPLES = """
SELECT ?s (COUNT(*) AS ?n) WHERE {
  VALUES ?kind { ckg:Actor ckg:Location ckg:Event }
  ?s a ?kind ; ?p ?o . FILTER(STRSTARTS(STR(?p), STR(ckg:)) && ?p != ckg:evidence)
} GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 3
"""


def dataset_iri(ns: Namespaces) -> str:
    """The IRI that names the dataset itself."""
    return ns.base + "dataset"


def _n(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(_XSD + "integer"))


class _Triples(list[ox.Triple]):
    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: str,
            obj: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
        self.append(ox.Triple(subject, ox.NamedNode(predicate), obj))


def in_reading_order(triples: list[ox.Triple]) -> list[ox.Triple]:
    """The dataset first, then the other named things, then partitions and distributions."""
    return sorted(triples, key=lambda t: (isinstance(t.subject, ox.BlankNode), str(t.subject),
                                          str(t.predicate)))


def dataset_description(store: GraphStore, ns: Namespaces, endpoint: str | None,
                        dumps: Mapping[str, tuple[str, bool]], landing_page: str | None = None
                        ) -> list[ox.Triple]:
    """VoID and DCAT triples about the dataset of this build and where it is served.

    `dumps` maps each dump's download address to its media type and whether it is gzipped.
    """
    return in_reading_order(dataset_facts(store, ns)
                            + access_facts(ns, endpoint, dumps, landing_page))


def dataset_facts(store: GraphStore, ns: Namespaces) -> list[ox.Triple]:
    """What the dataset of this build is and holds (counted from the store)."""
    me = ox.NamedNode(dataset_iri(ns))
    triples = _Triples()
    add = triples.add
    manifest = store.manifest
    add(me, _RDF_TYPE.value, ox.NamedNode(_VOID + "Dataset"))
    add(me, _RDF_TYPE.value, ox.NamedNode(_DCAT + "Dataset"))
    add(me, _DCT + "title", ox.Literal("crisiskg", language="en"))
    add(me, _DCT + "description", ox.Literal(
        "A knowledge graph of who did what to whom, where, when, on whose behalf, and says "
        "who, in news and analysis articles on international conflict; every fact points to "
        "the quote that supports it.", language="en"))
    add(me, _DCT + "license", ox.NamedNode(_LICENSE))
    add(me, _DCT + "creator", ox.Literal("crisiskg contributors"))
    add(me, _DCAT + "version", ox.Literal(manifest.dataset_version))
    # Each build is issued as it is made; a write (SPARQL Update) makes a new build too.
    for when in ("issued", "modified"):
        add(me, _DCT + when, ox.Literal(manifest.created,
                                        datatype=ox.NamedNode(_XSD + "dateTime")))
    add(me, _DCT + "conformsTo", ox.NamedNode(ns.term_prefix.rstrip("#")))
    add(me, _VOID + "uriSpace", ox.Literal(ns.resource_prefix))
    for row in store.query(_SOURCES, prefixes=ns.prefixes()):
        add(me, _DCT + "source", row["doc"])
    sizes = next(iter(store.query(_SIZES)))
    add(me, _VOID + "triples", _n(int(sizes["triples"].value)))
    add(me, _VOID + "distinctSubjects", _n(int(sizes["subjects"].value)))
    add(me, _VOID + "distinctObjects", _n(int(sizes["objects"].value)))
    entities = next(iter(store.query(_ENTITIES, prefixes=ns.prefixes())))
    add(me, _VOID + "entities", _n(int(entities["n"].value)))
    classes = sorted((row["class"].value, int(row["n"].value)) for row in store.query(_CLASSES)
                     if isinstance(row["class"], ox.NamedNode))
    properties = sorted((row["p"].value, int(row["n"].value))
                        for row in store.query(_PROPERTIES))
    add(me, _VOID + "classes", _n(len(classes)))
    add(me, _VOID + "properties", _n(len(properties)))
    for index, (iri, count) in enumerate(classes):
        part = ox.BlankNode(f"class{index}")
        add(me, _VOID + "classPartition", part)
        add(part, _VOID + "class", ox.NamedNode(iri))
        add(part, _VOID + "entities", _n(count))
    for index, (iri, count) in enumerate(properties):
        part = ox.BlankNode(f"property{index}")
        add(me, _VOID + "propertyPartition", part)
        add(part, _VOID + "property", ox.NamedNode(iri))
        add(part, _VOID + "triples", _n(count))
    used = {iri for iri, _ in classes} | {iri for iri, _ in properties}
    for namespace in sorted(set(ns.prefixes().values()) - {ns.resource_prefix}):
        if any(term.startswith(namespace) for term in used):
            add(me, _VOID + "vocabulary", ox.NamedNode(namespace))
    for row in store.query(_EXAMPLES, prefixes=ns.prefixes()):
        add(me, _VOID + "exampleResource", row["s"])
    for graph in store.named_graphs():
        subset = ox.NamedNode(graph)
        add(me, _VOID + "subset", subset)
        add(subset, _RDF_TYPE.value, ox.NamedNode(_VOID + "Dataset"))
        add(subset, _VOID + "triples", _n(sum(1 for _ in store.quads(graph))))
    return list(triples)


def access_facts(ns: Namespaces, endpoint: str | None, dumps: Mapping[str, tuple[str, bool]],
                 landing_page: str | None = None) -> list[ox.Triple]:
    """Where the dataset is served: its landing page, SPARQL endpoint and dumps."""
    me = ox.NamedNode(dataset_iri(ns))
    triples = _Triples()
    add = triples.add
    if landing_page is not None:
        add(me, _DCAT + "landingPage", ox.NamedNode(landing_page))
    if endpoint is not None:
        service = ox.NamedNode(endpoint)
        add(me, _VOID + "sparqlEndpoint", service)
        add(me, _DCAT + "accessService", service)
        add(service, _RDF_TYPE.value, ox.NamedNode(_DCAT + "DataService"))
        add(service, _DCAT + "endpointURL", service)
        add(service, _DCT + "conformsTo", ox.NamedNode("https://www.w3.org/TR/sparql11-protocol/"))
    for index, (address, (media_type, gzipped)) in enumerate(sorted(dumps.items())):
        dump, distribution = ox.NamedNode(address), ox.BlankNode(f"dump{index}")
        add(me, _VOID + "dataDump", dump)
        add(me, _DCAT + "distribution", distribution)
        add(distribution, _RDF_TYPE.value, ox.NamedNode(_DCAT + "Distribution"))
        add(distribution, _DCAT + "downloadURL", dump)
        add(distribution, _DCAT + "mediaType",
            ox.NamedNode(_IANA + media_type))
        if gzipped:
            add(distribution, _DCAT + "compressFormat", ox.NamedNode(_IANA + "application/gzip"))
        add(distribution, _DCT + "license", ox.NamedNode(_LICENSE))
    return list(triples)
