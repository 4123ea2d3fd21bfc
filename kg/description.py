"""The SPARQL 1.1 Service Description of the endpoint, as triples."""

from __future__ import annotations

import pyoxigraph as ox

from kg.sparql import FORMATS

__all__ = ["describe_service"]

_SD = "http://www.w3.org/ns/sparql-service-description#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(_SD + name)


def describe_service(endpoint: str, graphs: list[str]) -> list[ox.Triple]:
    """The endpoint's language, result formats, features, and its dataset with every graph."""
    service = ox.NamedNode(endpoint)
    dataset, default_graph = ox.BlankNode("dataset"), ox.BlankNode("default")
    triples = [
        ox.Triple(service, _RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        # The default graph is the union of all named graphs.
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, _RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, _RDF_TYPE, _sd("Graph")),
    ]
    triples += [ox.Triple(service, _sd("resultFormat"), ox.NamedNode(fmt.iri))
                for fmt in FORMATS]
    for index, graph in enumerate(graphs):
        named = ox.BlankNode(f"graph{index}")
        triples += [ox.Triple(dataset, _sd("namedGraph"), named),
                    ox.Triple(named, _RDF_TYPE, _sd("NamedGraph")),
                    ox.Triple(named, _sd("name"), ox.NamedNode(graph))]
    return triples
