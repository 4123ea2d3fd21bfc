"""IRIs of everything crisiskg mints, under one configurable base IRI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from kg.settings import DEFAULT_BASE_IRI

__all__ = ["EXTERNAL_PREFIXES", "Namespaces", "short_iri"]

#: Vocabularies crisiskg uses, by their usual prefixes (used in queries and exports).
EXTERNAL_PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "sh": "http://www.w3.org/ns/shacl#",
}


@dataclass(frozen=True)
class Namespaces:
    """Mints the IRIs of resources, graphs, annotations and ontology terms for one base IRI."""

    base: str = DEFAULT_BASE_IRI

    @property
    def ontology(self) -> str:
        """The ontology's own IRI."""
        return self.base + "ontology"

    @property
    def term_prefix(self) -> str:
        """Namespace of the ontology's terms (the `ckg:` prefix)."""
        return self.base + "ontology#"

    @property
    def resource_prefix(self) -> str:
        """Namespace of entities, events, claims and documents."""
        return self.base + "resource/"

    def term(self, name: str) -> str:
        """IRI of an ontology term, e.g. ``term('Person')``."""
        return self.term_prefix + name

    def resource(self, identifier: str) -> str:
        """IRI of a corpus entity, event, claim or document by its annotation id."""
        return self.resource_prefix + quote(identifier, safe="-._~/")

    def graph(self, name: str) -> str:
        """IRI of a named graph: a document id, ``ontology`` or ``inferred``."""
        return self.base + "graph/" + quote(name, safe="-._~")

    def prefixes(self) -> dict[str, str]:
        """The project's prefixes, its own first."""
        return {"ckg": self.term_prefix, "res": self.resource_prefix, **EXTERNAL_PREFIXES}

    def rebase(self, text: str) -> str:
        """Rewrite IRIs written under the default base (in the ontology and shapes) to this base."""
        return text if self.base == DEFAULT_BASE_IRI else text.replace(DEFAULT_BASE_IRI, self.base)


def short_iri(iri: str, prefixes: Mapping[str, str]) -> str:
    """A prefixed name (`ckg:Event`) for an IRI under a known namespace, else the IRI."""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri
