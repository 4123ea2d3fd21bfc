"""The crisiskg ontology and SHACL shapes, packaged with kg as `kg.ontology`."""
