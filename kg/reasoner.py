"""OWL reasoning with owlready2 and HermiT (the one module that imports owlready2).

HermiT checks that the ontology and the data together are consistent, and what it infers
(types from the class hierarchy and from domains/ranges, transitive locatedIn, inverse and
symmetric relations) is returned as triples for the `inferred` graph.

When the graph is inconsistent, HermiT only says so. To say *why*, we ask it once more about one
probe class per individual: the intersection of the individual's asserted types and of
`p some Thing` for each property it uses. A probe HermiT finds unsatisfiable names an individual
whose own description contradicts the ontology (a Person typed as a City, a City that leads an
organization, ...), without us reimplementing any reasoning.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import owlready2
import pyoxigraph as ox

from kg.errors import InconsistentGraph, Problem
from kg.namespaces import EXTERNAL_PREFIXES, Namespaces

__all__ = ["ReasoningResult", "reason"]

_RDF_TYPE = EXTERNAL_PREFIXES["rdf"] + "type"
_OWL = EXTERNAL_PREFIXES["owl"]
_PROBE = "urn:crisiskg:probe:"
_XSD = EXTERNAL_PREFIXES["xsd"]
_RDF = EXTERNAL_PREFIXES["rdf"]
_RDFS = EXTERNAL_PREFIXES["rdfs"]
_OA = EXTERNAL_PREFIXES["oa"]
#: Datatypes of the OWL 2 datatype map that occur in our data; HermiT refuses any other.
_OWL2_DATATYPES = {_XSD + t for t in ("string", "boolean", "integer", "nonNegativeInteger",
                                      "positiveInteger", "decimal", "double", "anyURI",
                                      "dateTime")} | {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReasoningResult:
    """What HermiT concluded: the inferred triples (none of them already asserted)."""

    inferred: list[ox.Triple]


def _reasoning_view(data: Iterable[ox.Quad], ns: Namespaces) -> list[ox.Triple]:
    """The part of the data OWL reasoning needs: types and ontology properties between things.

    Provenance (annotations, reified statements, evidence links) is left out: it is not about the
    world, and rdf:Statement's vocabulary is not OWL 2 DL. So are date literals (xsd:date).
    """
    skip = {ns.term("evidence"), ns.term("claims")}
    provenance_types = {_RDF + "Statement"} | {_OA + t for t in (
        "Annotation", "SpecificResource", "TextQuoteSelector", "TextPositionSelector")}
    provenance = {q.subject for q in data if q.predicate.value == _RDF_TYPE
                  and _iri(q.object) in provenance_types}
    view = []
    for quad in data:
        if quad.subject in provenance:
            continue  # statement nodes and annotations describe the text, not the world
        predicate = quad.predicate.value
        if predicate == _RDF_TYPE:
            kind = quad.object
            if isinstance(kind, ox.NamedNode) and kind.value.startswith(ns.term_prefix):
                view.append(ox.Triple(quad.subject, quad.predicate, quad.object))
        elif predicate.startswith(ns.term_prefix) and predicate not in skip:
            value = quad.object
            if isinstance(value, ox.Literal) and value.datatype.value not in _OWL2_DATATYPES:
                continue  # xsd:date bounds: outside OWL 2's datatypes, checked by SHACL instead
            view.append(ox.Triple(quad.subject, quad.predicate, quad.object))
    return view


def _load(world: owlready2.World, iri: str, triples: Iterable[ox.Triple]) -> owlready2.Ontology:
    # owlready2 reads N-Triples, not Turtle: pyoxigraph serializes for it.
    data = ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""
    return world.get_ontology(iri).load(fileobj=io.BytesIO(data), format="ntriples")


def _run_hermit(world: owlready2.World, infer_values: bool) -> None:
    # HermiT prints progress to stdout at debug >= 1; keep the CLI's output ours.
    owlready2.sync_reasoner_hermit(world, infer_property_values=infer_values, debug=0)


def reason(ontology: list[ox.Triple], data: list[ox.Quad], ns: Namespaces,
           origins: dict[str, str]) -> ReasoningResult:
    """Check consistency with HermiT and return the inferred triples; explain any inconsistency."""
    view = _reasoning_view(data, ns)
    world = owlready2.World()
    _load(world, ns.ontology, ontology)
    _load(world, ns.graph("data"), view)
    inferences = world.get_ontology(ns.graph("inferred"))
    try:
        with inferences:
            _run_hermit(world, infer_values=True)
    except owlready2.OwlReadyInconsistentOntologyError:
        problems = _diagnose(ontology, view, ns, origins)
        raise InconsistentGraph(
            "HermiT finds the ontology and the data inconsistent", tuple(problems)
        ) from None
    return ReasoningResult(_inferred(world, inferences, view, ns))


def _inferred(world: owlready2.World, inferences: owlready2.Ontology, view: list[ox.Triple],
              ns: Namespaces) -> list[ox.Triple]:
    asserted = set(view)
    out: set[ox.Triple] = set()
    buffer = io.BytesIO()
    inferences.save(buffer, format="ntriples")
    ontology_iri = inferences.base_iri.rstrip("#/")
    for triple in ox.parse(buffer.getvalue(), ox.RdfFormat.N_TRIPLES):
        subject, obj = _iri(triple.subject), _iri(triple.object)
        if obj in (_OWL + "Thing", _OWL + "Ontology") or subject == ontology_iri:
            continue  # owlready2's bookkeeping, not inferences about the world
        out.add(triple)
    individuals = sorted({_iri(t.subject) for t in view if t.predicate.value == _RDF_TYPE})
    properties = list(world.object_properties())
    for iri in individuals:
        individual = world[iri]
        if individual is None:
            continue
        node = ox.NamedNode(iri)
        # Every named class it belongs to after classification, not only the most specific,
        # so `?x a ckg:Actor` or `?x a schema:Person` answer without property paths.
        for cls in individual.INDIRECT_is_a:
            cls_iri = getattr(cls, "iri", None)
            if cls_iri and cls_iri != _OWL + "Thing":
                out.add(ox.Triple(node, ox.NamedNode(_RDF_TYPE), ox.NamedNode(cls_iri)))
        # Values entailed through sub-properties, inverses, symmetry and transitivity, which
        # owlready2 keeps implicit rather than writing them to the inferences ontology.
        # (A private method, stable in the pinned owlready2 0.51; public INDIRECT_<name>
        # attributes clash for properties sharing a local name, such as ckg:author/schema:author.)
        for prop in properties:
            for value in prop._get_indirect_values_for_individual(individual):
                value_iri = getattr(value, "iri", None)
                if value_iri:
                    out.add(ox.Triple(node, ox.NamedNode(prop.iri), ox.NamedNode(value_iri)))
    return sorted(out - asserted, key=str)


def _diagnose(ontology: list[ox.Triple], view: list[ox.Triple], ns: Namespaces,
              origins: dict[str, str]) -> list[Problem]:
    types: dict[str, set[str]] = defaultdict(set)
    outgoing: dict[str, set[str]] = defaultdict(set)
    incoming: dict[str, set[str]] = defaultdict(set)
    for triple in view:
        subject, predicate = _iri(triple.subject), triple.predicate.value
        if predicate == _RDF_TYPE:
            types[subject].add(_iri(triple.object))
        elif isinstance(triple.object, ox.NamedNode):
            outgoing[subject].add(predicate)
            incoming[triple.object.value].add(predicate)
        else:
            outgoing[subject].add(predicate)
    object_properties = {_iri(t.subject) for t in ontology if t.predicate.value == _RDF_TYPE
                         and _iri(t.object) == _OWL + "ObjectProperty"}
    individuals = sorted(set(types) | set(outgoing) | set(incoming))
    probes: list[str] = []
    for index, iri in enumerate(individuals):
        parts = [f"<{t}>" for t in sorted(types[iri])]
        for prop in sorted(outgoing[iri]):
            parts.append(_some(f"<{prop}>", prop in object_properties))
        for prop in sorted(incoming[iri]):
            parts.append(_some(f"[ <{_OWL}inverseOf> <{prop}> ]", True))
        if not parts:
            continue
        members = " ".join(parts) if len(parts) > 1 else parts[0] + " " + parts[0]
        probes.append(
            f"<{_PROBE}{index}> a <{_OWL}Class> ; <{_OWL}equivalentClass> "
            f"[ a <{_OWL}Class> ; <{_OWL}intersectionOf> ( {members} ) ] ."
        )
    world = owlready2.World()
    _load(world, ns.ontology, ontology)
    _load(world, _PROBE + "ontology", ox.parse("\n".join(probes), ox.RdfFormat.TURTLE))
    try:
        _run_hermit(world, infer_values=False)
        unsatisfiable = {c.iri for c in world.inconsistent_classes()}
    except owlready2.OwlReadyInconsistentOntologyError:  # pragma: no cover - ontology itself
        return [Problem(ns.ontology, "the ontology alone is inconsistent",
                        "check the last change to ontology/crisiskg.ttl")]
    problems = []
    for index, iri in enumerate(individuals):
        if f"{_PROBE}{index}" not in unsatisfiable:
            continue
        described = [_short(t) for t in sorted(types[iri])]
        uses = [f"subject of {_short(p)}" for p in sorted(outgoing[iri])]
        uses += [f"object of {_short(p)}" for p in sorted(incoming[iri])]
        clashes = _clashes(sorted(types[iri]), ontology)
        why = ("; ".join(clashes) + ".") if clashes else (
            "The ontology's disjointness, domain and range axioms rule this combination out.")
        problems.append(Problem(
            origins.get(iri, iri),
            f"'{_short(iri)}' cannot be all of: {', '.join(described + uses)}. {why}",
            "give the entity the one type that fits it, or use a property whose domain and range "
            "fit the entities it links",
        ))
    if not problems:
        problems.append(Problem(ns.graph("data"), "the inconsistency involves several entities "
                                "together", "look for functional properties with two values"))
    return problems


def _clashes(classes: list[str], ontology: list[ox.Triple]) -> list[str]:
    """Pairs of the given classes that fall under classes the ontology declares disjoint."""
    parents: dict[str, set[str]] = defaultdict(set)
    first: dict[object, object] = {}
    rest: dict[object, object] = {}
    groups: list[object] = []
    disjoint: set[frozenset[str]] = set()
    for t in ontology:
        p = t.predicate.value
        if p == _RDFS + "subClassOf" and _iri(t.object):
            parents[_iri(t.subject)].add(_iri(t.object))
        elif p == _OWL + "disjointWith":
            disjoint.add(frozenset((_iri(t.subject), _iri(t.object))))
        elif p == _OWL + "members":
            groups.append(t.object)
        elif p == _RDF + "first":
            first[t.subject] = t.object
        elif p == _RDF + "rest":
            rest[t.subject] = t.object
    for cell in groups:
        members = []
        while cell in first:
            members.append(_iri(first[cell]))
            cell = rest.get(cell)
        disjoint |= {frozenset((a, b)) for a in members for b in members if a != b}

    def ancestors(name: str) -> set[str]:
        seen, todo = {name}, [name]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    found = []
    for i, a in enumerate(classes):
        for b in classes[i + 1 :]:
            for x in sorted(ancestors(a)):
                for y in sorted(ancestors(b)):
                    if frozenset((x, y)) in disjoint:
                        kinds = [f"{_short(c)} is a kind of {_short(k)}"
                                 for c, k in ((a, x), (b, y)) if c != k]
                        found.append(", ".join([*kinds, f"and the ontology declares "
                                                f"{_short(x)} and {_short(y)} disjoint"]))
    return found


def _iri(term: object) -> str:
    """The IRI of a named node, or "" for blank nodes, literals and triple terms."""
    return term.value if isinstance(term, ox.NamedNode) else ""


def _some(prop: str, is_object: bool) -> str:
    filler = f"<{_OWL}Thing>" if is_object else "<http://www.w3.org/2000/01/rdf-schema#Literal>"
    return (f"[ a <{_OWL}Restriction> ; <{_OWL}onProperty> {prop} ; "
            f"<{_OWL}someValuesFrom> {filler} ]")


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
