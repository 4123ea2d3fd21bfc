"""The saved example queries (`*.rq`), shipped inside the kg package as kg.queries."""
