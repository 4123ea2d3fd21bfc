"""`kg export`: every format round-trips through pyoxigraph and rdflib, byte for byte stable."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib

from kg.build import build
from kg.errors import NotFound, QueryError
from kg.export import EXPORT_FORMATS, export, jsonld_context
from kg.namespaces import Namespaces
from kg.settings import Settings
from kg.sparql import Dataset
from kg.store import ReadStore
from kg.vocabulary import shapes_text
from kg.writes import run_update

NS = Namespaces("https://w3id.org/crisiskg/")
#: rdflib's parser names for the formats.
RDFLIB_FORMATS = {"turtle": "turtle", "trig": "trig", "ntriples": "nt", "nquads": "nquads",
                  "rdfxml": "xml", "jsonld": "json-ld"}


def _canonical(quads: list[ox.Quad], as_triples: bool) -> set[str]:
    """Quads with blank nodes labelled by RDFC-1.0, as N-Quads lines: equal sets, same graph."""
    if as_triples:
        quads = [ox.Quad(q.subject, q.predicate, q.object) for q in quads]
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in dataset}


def _store_content(settings: Settings, as_triples: bool) -> set[str]:
    with ReadStore.open_current(settings.store_dir) as store:
        return _canonical(list(store.quads()), as_triples)


def _via_rdflib(data: bytes, fmt: str) -> list[ox.Quad]:
    """What rdflib reads from the file, handed to pyoxigraph as N-Quads to compare."""
    # Lexical forms as written: rdflib would otherwise rewrite "...Z" datetimes as "+00:00".
    normalizing, rdflib.NORMALIZE_LITERALS = rdflib.NORMALIZE_LITERALS, False
    try:
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=RDFLIB_FORMATS[fmt])
        nquads = dataset.serialize(format="nquads", encoding="utf-8")
    finally:
        rdflib.NORMALIZE_LITERALS = normalizing
    default = "urn:x-rdflib:default"
    return [q if q.graph_name != ox.NamedNode(default)
            else ox.Quad(q.subject, q.predicate, q.object)
            for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)]


# rdflib's parsers use rdflib's own deprecated API (ConjunctiveGraph, Dataset.contexts).
@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")
@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_each_format_round_trips_through_pyoxigraph_and_rdflib(seed_built: Settings,
                                                               fmt: str) -> None:
    rdf_format = EXPORT_FORMATS[fmt].rdf_format
    as_triples = not rdf_format.supports_datasets
    with ReadStore.open_current(seed_built.store_dir) as store:
        exported = export(store, NS, fmt)
    expected = _store_content(seed_built, as_triples)
    by_pyoxigraph = list(ox.parse(exported.data, format=rdf_format))
    assert _canonical(by_pyoxigraph, as_triples) == expected
    assert _canonical(_via_rdflib(exported.data, fmt), as_triples) == expected
    assert exported.statements == len(expected)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_exporting_twice_gives_the_same_bytes(seed_built: Settings, fmt: str) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        assert export(store, NS, fmt).data == export(store, NS, fmt).data


def test_two_builds_of_one_corpus_export_the_same_bytes(tmp_path: Path,
                                                        mini_built: Settings) -> None:
    # The ontology's blank nodes get new labels in every build; the export must not show it.
    again = replace(mini_built, store_dir=tmp_path / "again")
    build(again)
    exports = []
    for settings in (mini_built, again):
        with ReadStore.open_current(settings.store_dir) as store:
            assert any(isinstance(q.subject, ox.BlankNode) for q in store.quads())
            exports.append(export(store, NS, "trig").data)
    assert exports[0] == exports[1]


def test_the_turtle_is_readable_and_says_what_it_is(seed_built: Settings) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        text = export(store, NS, "turtle", ["links"]).data.decode("utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("# crisiskg export of graphs links: ")
    assert lines[0].endswith(" triples, turtle")
    assert "# RDF 1.1: no triple terms" in lines
    assert "@prefix res: <https://w3id.org/crisiskg/resource/> ." in lines
    # Grouped by subject, its type first.
    assert "res:tehran\\/geometry a gsp:Geometry ;" in lines


def test_graphs_and_queries_choose_what_is_exported(seed_built: Settings) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        document = export(store, NS, "nquads", ["dead-heat"])
        assert {q.graph_name for q in ox.parse(document.data, format=ox.RdfFormat.N_QUADS)} == {
            ox.NamedNode(NS.graph("dead-heat"))}
        constructed = export(store, NS, "ntriples", construct="""
            CONSTRUCT { ?e ckg:hasVictim ?v } WHERE { ?e ckg:hasVictim ?v }""")
        triples = list(ox.parse(constructed.data, format=ox.RdfFormat.N_TRIPLES))
        assert ox.Quad(ox.NamedNode(NS.resource("killing-of-qassem-soleimani")),
                       ox.NamedNode(NS.term("hasVictim")),
                       ox.NamedNode(NS.resource("qassem-soleimani"))) in triples
        with pytest.raises(NotFound, match="no graph 'dead-heet' in the store; choose all, "
                                           "ontology, inferred, links, or a document: "):
            export(store, NS, "turtle", ["dead-heet"])
        with pytest.raises(QueryError, match="--query needs a CONSTRUCT"):
            export(store, NS, "turtle", construct="SELECT * WHERE { ?s ?p ?o }")


def test_rdf11_rewrites_triple_terms_for_rdflib(mini_settings: Settings) -> None:
    build(mini_settings)
    # A researcher's own RDF 1.2 annotation of a statement, written by SPARQL Update.
    run_update(mini_settings.store_dir, NS, """
        PREFIX ex: <http://example.org/>
        INSERT DATA { GRAPH <https://w3id.org/crisiskg/graph/notes> {
          ex:note rdf:reifies <<( res:ann-example ckg:commands res:rocket-force )>> ;
                  ex:checkedBy ex:someone .
          ex:doubt ex:about <<( res:camp-north ckg:locatedIn res:eastria )>> } }""",
               Dataset(), None)
    with ReadStore.open_current(mini_settings.store_dir) as store:
        plain = export(store, NS, "turtle", ["notes"])
        assert plain.rdf12
        assert "# RDF 1.2: holds triple terms" in plain.data.decode()
        with pytest.raises(rdflib.plugins.parsers.notation3.BadSyntax):
            rdflib.Graph().parse(data=plain.data, format="turtle")
        with pytest.raises(QueryError, match="jsonld cannot: export with --rdf11"):
            export(store, NS, "jsonld", ["notes"])
        fallback = export(store, NS, "turtle", ["notes"], rdf11=True)
    assert not fallback.rdf12
    assert "<<" not in fallback.data.decode()
    assert "# RDF 1.1: triple terms rewritten as rdf:Statement nodes (--rdf11)" in \
        fallback.data.decode()
    graph = rdflib.Graph().parse(data=fallback.data, format="turtle")
    rdf, ex = rdflib.RDF, rdflib.Namespace("http://example.org/")
    note = ex.note
    assert (note, rdf.type, rdf.Statement) in graph
    assert (note, rdf.subject, rdflib.URIRef(NS.resource("ann-example"))) in graph
    assert (note, ex.checkedBy, ex.someone) in graph
    doubt = graph.value(ex.doubt, ex.about)
    assert isinstance(doubt, rdflib.BNode)
    assert (doubt, rdf.predicate, rdflib.URIRef(NS.term("locatedIn"))) in graph


def test_kg_export_writes_gzip_files_that_are_stable(seed_built: Settings, tmp_path: Path
                                                    ) -> None:
    env = {**os.environ, "KG_STORE_DIR": str(seed_built.store_dir)}
    outputs = [tmp_path / "first.nq.gz", tmp_path / "second.nq.gz"]
    for output in outputs:
        result = subprocess.run([sys.executable, "-m", "kg", "export", "-o", str(output)],
                                env=env, capture_output=True, text=True, timeout=120,
                                check=False)
        assert result.returncode == 0, result.stderr
        assert f"(nquads) to {output}" in result.stderr
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    data = gzip.decompress(outputs[0].read_bytes())
    assert data.startswith(b"# crisiskg export of all graphs: ")
    assert len(list(ox.parse(data, format=ox.RdfFormat.N_QUADS))) > 20000


def test_json_ld_is_compacted_with_the_published_context(seed_built: Settings) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        document = json.loads(export(store, NS, "jsonld", ["links"]).data)
    assert document["@context"] == jsonld_context(NS)["@context"]
    assert document["@context"]["res"] == "https://w3id.org/crisiskg/resource/"
    assert document["@id"] == "https://w3id.org/crisiskg/graph/links"  # one named graph
    tehran = next(node for node in document["@graph"] if node["@id"] == "res:tehran")
    assert {"@id": "https://sws.geonames.org/112931/"} in tehran["owl:sameAs"]


def test_the_exported_data_conforms_to_the_exported_shapes(seed_built: Settings) -> None:
    with ReadStore.open_current(seed_built.store_dir) as store:
        data = rdflib.Graph().parse(data=export(store, NS, "turtle").data, format="turtle")
    shapes = rdflib.Graph().parse(data=shapes_text(NS), format="turtle")
    conforms, _, report = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    assert conforms, report


def test_what_rdf_1_1_or_rdf_xml_cannot_say_is_refused_clearly(mini_settings: Settings) -> None:
    build(mini_settings)
    run_update(mini_settings.store_dir, NS, """
        PREFIX ex: <http://example.org/>
        INSERT DATA { GRAPH <https://w3id.org/crisiskg/graph/notes> {
          ex:note rdf:reifies <<( res:ann-example ckg:commands res:rocket-force )>> ,
                              <<( res:camp-north ckg:locatedIn res:eastria )>> .
          ex:a <http://example.org/p/1> ex:b } }""", Dataset(), None)
    with ReadStore.open_current(mini_settings.store_dir) as store:
        with pytest.raises(QueryError, match=re.escape(
                "<http://example.org/note> reifies 2 triples, which RDF 1.1 reification "
                "cannot say")):
            export(store, NS, "turtle", ["notes"], rdf11=True)
        with pytest.raises(QueryError, match=r"the property <http://example.org/p/1> cannot be "
                                             r"written in RDF/XML"):
            export(store, NS, "rdfxml", ["notes"])


def test_kg_export_says_what_is_wrong_with_the_output_file(seed_built: Settings,
                                                          tmp_path: Path) -> None:
    env = {**os.environ, "KG_STORE_DIR": str(seed_built.store_dir)}
    for output, message in ((tmp_path / "data.xlsx", "cannot tell the format from the name "
                             "data.xlsx: give --format"),
                            (tmp_path / "missing" / "data.ttl", "cannot write ")):
        result = subprocess.run([sys.executable, "-m", "kg", "export", "-o", str(output)],
                                env=env, capture_output=True, text=True, timeout=120,
                                check=False)
        assert result.returncode == 7
        assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "missing").exists()
    assert list(tmp_path.iterdir()) == []
