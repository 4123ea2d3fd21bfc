"""The ontology: every term documented, the classes the project needs, disjointness, alignment."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.namespaces import Namespaces
from kg.vocabulary import Vocabulary, ontology_text

NS = Namespaces()
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DEFINITION = "http://www.w3.org/2004/02/skos/core#definition"


@pytest.fixture(scope="module")
def triples() -> list[ox.Triple]:
    return list(ox.parse(ontology_text(NS), ox.RdfFormat.TURTLE))


def _terms(triples: list[ox.Triple]) -> set[str]:
    kinds = {"http://www.w3.org/2002/07/owl#" + k for k in
             ("Class", "ObjectProperty", "DatatypeProperty")}
    return {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)
            and t.subject.value.startswith(NS.term_prefix) and t.object.value in kinds}


def test_every_term_has_a_label_and_a_definition(triples: list[ox.Triple]) -> None:
    terms = _terms(triples)
    assert len(terms) > 100
    for predicate in (RDFS_LABEL, DEFINITION):
        described = {t.subject.value for t in triples if t.predicate.value == predicate}
        assert terms - described == set(), f"terms without {predicate}"


def test_the_classes_the_project_needs_exist() -> None:
    vocabulary = Vocabulary.load(NS)
    hierarchy = {
        "Actor": ["Person", "Organization", "State", "GovernmentBody", "ArmedForce",
                  "NonStateArmedGroup", "Militia", "IntelligenceOrSecurityService",
                  "Legislature", "PoliticalParty", "ResearchInstitute", "NewsMedia",
                  "InternationalOrganization", "Company"],
        "Location": ["Country", "Region", "City", "Facility", "MilitaryBase", "Airport",
                     "Embassy", "EnergyFacility", "WaterBody"],
        "MilitaryEvent": ["TargetedKilling", "AirOrDroneStrike", "MissileStrike", "RocketAttack",
                          "AttackOnShipping", "Siege", "ShootDown", "Interception",
                          "ArmsSeizure"],
        "PoliticalEvent": ["Sanction", "Election", "Protest", "DiplomaticVisit", "Negotiation",
                           "AgreementWithdrawal", "Appointment"],
        "Event": ["MilitaryEvent", "PoliticalEvent"],
        "Document": ["SourceDocument", "CitedWork"],
    }
    for parent, children in hierarchy.items():
        for child in children:
            assert vocabulary.is_a(child, (parent,)), f"{child} is not under {parent}"
    assert {"Agreement", "Claim"} <= vocabulary.classes


def test_person_organization_location_event_are_pairwise_disjoint(
        triples: list[ox.Triple]) -> None:
    ontology = ox.Dataset([ox.Quad(t.subject, t.predicate, t.object) for t in triples])
    store = ox.Store()
    store.extend(ontology)
    pairs = [("Person", "Organization"), ("Person", "Location"), ("Person", "Event"),
             ("Organization", "Location"), ("Organization", "Event"), ("Location", "Event")]
    for a, b in pairs:
        # Disjoint when some AllDisjointClasses lists an ancestor of each.
        query = f"""PREFIX owl: <http://www.w3.org/2002/07/owl#>
            PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
            PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
            ASK {{ ?axiom a owl:AllDisjointClasses ; owl:members ?list .
                  <{NS.term(a)}> rdfs:subClassOf* ?x . <{NS.term(b)}> rdfs:subClassOf* ?y .
                  ?list rdf:rest*/rdf:first ?x . ?list rdf:rest*/rdf:first ?y .
                  FILTER(?x != ?y) }}"""
        assert bool(store.query(query)), f"{a} and {b} are not disjoint"


def test_aligned_to_standard_vocabularies(triples: list[ox.Triple]) -> None:
    alignments = {"http://www.w3.org/2000/01/rdf-schema#subClassOf",
                  "http://www.w3.org/2000/01/rdf-schema#subPropertyOf",
                  "http://www.w3.org/2002/07/owl#inverseOf"}
    used = {t.object.value for t in triples if isinstance(t.object, ox.NamedNode)
            and t.predicate.value in alignments and t.subject.value.startswith(NS.term_prefix)}
    for namespace in ("https://schema.org/", "http://xmlns.com/foaf/0.1/",
                      "http://www.w3.org/ns/org#", "http://semanticweb.cs.vu.nl/2009/11/sem/",
                      "http://www.w3.org/ns/prov#", "http://www.w3.org/2003/01/geo/wgs84_pos#",
                      "http://www.w3.org/ns/oa#", "http://www.w3.org/2006/time#",
                      "http://www.opengis.net/ont/geosparql#"):
        assert any(iri.startswith(namespace) for iri in used), namespace


def test_versioned_and_licensed(triples: list[ox.Triple]) -> None:
    about = {t.predicate.value: t.object.value for t in triples if t.subject.value == NS.ontology}
    assert about["http://www.w3.org/2002/07/owl#versionIRI"].startswith(NS.base + "ontology/")
    assert about["http://purl.org/dc/terms/license"] == \
        "https://creativecommons.org/licenses/by/4.0/"


def test_base_iri_is_configurable() -> None:
    other = Namespaces("https://example.org/kg/")
    vocabulary = Vocabulary.load(other)
    assert vocabulary.properties["hasAgent"].iri == "https://example.org/kg/ontology#hasAgent"


def test_event_types_map_to_acled_and_cameo(triples: list[ox.Triple]) -> None:
    skos = "http://www.w3.org/2004/02/skos/core#"
    mapped = {(t.subject.value[len(NS.term_prefix):], t.object.value.rsplit("/", 2)[-2:][0],
               t.object.value.rsplit("/", 1)[-1])
              for t in triples if t.predicate.value in (skos + "closeMatch", skos + "broadMatch")}
    assert ("TargetedKilling", "cameo", "186") in mapped  # Assassinate
    assert ("AirOrDroneStrike", "acled", "air-drone-strike") in mapped
    assert ("Sanction", "cameo", "163") in mapped  # Impose embargo, boycott, or sanctions
    assert ("Interception", "acled", "disrupted-weapons-use") in mapped
    labels = {t.subject.value: t.object.value for t in triples
              if t.predicate.value == skos + "prefLabel"}
    assert labels[NS.base + "vocab/cameo/186"] == "Assassinate"
    assert labels[NS.base + "vocab/acled/shelling-artillery-missile-attack"] == \
        "Shelling/artillery/missile attack"
