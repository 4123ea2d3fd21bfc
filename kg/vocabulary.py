"""The ontology's terms as Python data: classes, their hierarchy, properties and their ranges.

Annotation validation uses this to check types and properties against the ontology itself, so the
Turtle file stays the one source of truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import pyoxigraph as ox

from kg.namespaces import Namespaces

__all__ = ["PropertyTerm", "Vocabulary", "ontology_text", "shapes_text"]

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"
_XSD = "http://www.w3.org/2001/XMLSchema#"


def ontology_text(namespaces: Namespaces) -> str:
    """The ontology Turtle, under the configured base IRI."""
    source = resources.files("kg.ontology").joinpath("crisiskg.ttl").read_text(encoding="utf-8")
    return namespaces.rebase(source)


def shapes_text(namespaces: Namespaces) -> str:
    """The SHACL shapes Turtle, under the configured base IRI."""
    source = resources.files("kg.ontology").joinpath("shapes.ttl").read_text(encoding="utf-8")
    return namespaces.rebase(source)


@dataclass(frozen=True)
class PropertyTerm:
    """An ontology property: object or datatype, with its domain and range."""

    name: str
    iri: str
    is_object: bool
    domain: tuple[str, ...] = ()  # class local names; several for a union
    range: tuple[str, ...] = ()  # class local names, or one XSD datatype IRI


@dataclass
class Vocabulary:
    """The ontology's classes and properties, by local name."""

    namespaces: Namespaces
    classes: set[str] = field(default_factory=set)
    individuals: dict[str, str] = field(default_factory=dict)  # local name -> class local name
    properties: dict[str, PropertyTerm] = field(default_factory=dict)
    _parents: dict[str, set[str]] = field(default_factory=dict)
    _super_properties: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, namespaces: Namespaces) -> Vocabulary:
        """Read the packaged ontology."""
        triples = list(ox.parse(ontology_text(namespaces), ox.RdfFormat.TURTLE))
        vocabulary = cls(namespaces)
        vocabulary._read(triples)
        return vocabulary

    def _local(self, term: object) -> str | None:
        if isinstance(term, ox.NamedNode) and term.value.startswith(self.namespaces.term_prefix):
            return term.value[len(self.namespaces.term_prefix) :]
        return None

    def _read(self, triples: list[ox.Triple]) -> None:
        unions: dict[object, object] = {}
        lists: dict[object, tuple[object, object]] = {}
        kinds: dict[str, bool] = {}
        domains: dict[str, object] = {}
        ranges: dict[str, object] = {}
        for s, p, o in ((t.subject, t.predicate.value, t.object) for t in triples):
            name = self._local(s)
            if p == _RDF + "first":
                lists[s] = (o, lists.get(s, (None, None))[1])
            elif p == _RDF + "rest":
                lists[s] = (lists.get(s, (None, None))[0], o)
            elif p == _OWL + "unionOf":
                unions[s] = o
            if name is None:
                continue
            if p == _RDF + "type":
                kind = o.value if isinstance(o, ox.NamedNode) else ""
                if kind == _OWL + "Class":
                    self.classes.add(name)
                elif kind == _OWL + "ObjectProperty":
                    kinds[name] = True
                elif kind == _OWL + "DatatypeProperty":
                    kinds[name] = False
                elif (cls_name := self._local(o)) is not None:
                    self.individuals[name] = cls_name
            elif p == _RDFS + "subClassOf" and (parent := self._local(o)) is not None:
                self._parents.setdefault(name, set()).add(parent)
            elif p == _RDFS + "subPropertyOf" and (parent := self._local(o)) is not None:
                self._super_properties.setdefault(name, set()).add(parent)
            elif p == _RDFS + "domain":
                domains[name] = o
            elif p == _RDFS + "range":
                ranges[name] = o

        def members(node: object) -> tuple[str, ...]:
            if node in unions:
                out: list[str] = []
                cell = unions[node]
                while cell in lists:
                    first, cell = lists[cell]
                    if (local := self._local(first)) is not None:
                        out.append(local)
                return tuple(out)
            if isinstance(node, ox.NamedNode):
                local = self._local(node)
                return (local,) if local is not None else (node.value,)
            return ()

        for name, is_object in kinds.items():
            self.properties[name] = PropertyTerm(
                name=name,
                iri=self.namespaces.term(name),
                is_object=is_object,
                domain=members(domains[name]) if name in domains else (),
                range=members(ranges[name]) if name in ranges else (),
            )

    def ancestors(self, name: str) -> set[str]:
        """The class and every class it is declared a subclass of, transitively."""
        seen = {name}
        todo = [name]
        while todo:
            for parent in self._parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    def is_a(self, name: str, classes: tuple[str, ...]) -> bool:
        """Whether class `name` is one of `classes` or a subclass of one."""
        return bool(self.ancestors(name) & set(classes))

    def domain_of(self, prop: str) -> tuple[str, ...]:
        """The domain of a property, inherited from a super-property if it declares none."""
        return self._inherited(prop, "domain")

    def range_of(self, prop: str) -> tuple[str, ...]:
        """The range of a property, inherited from a super-property if it declares none."""
        return self._inherited(prop, "range")

    def _inherited(self, prop: str, attribute: str) -> tuple[str, ...]:
        todo = [prop]
        while todo:
            name = todo.pop(0)
            term = self.properties.get(name)
            if term is not None and getattr(term, attribute):
                return tuple(getattr(term, attribute))
            todo.extend(sorted(self._super_properties.get(name, ())))
        return ()

    @staticmethod
    def xsd(local: str) -> str:
        """IRI of an XSD datatype."""
        return _XSD + local
