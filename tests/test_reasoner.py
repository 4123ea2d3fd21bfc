"""HermiT's inferences land in the inferred graph, apart from what documents assert."""

from __future__ import annotations

from helpers import ask

from kg.settings import Settings

INFERRED = "https://w3id.org/crisiskg/graph/inferred"




def test_superclass_types_are_inferred_not_asserted(mini_built: Settings) -> None:
    assert ask(mini_built, f"ASK {{ GRAPH <{INFERRED}> {{ res:ann-example a ckg:Actor, "
                            f"schema:Person }} }}")
    assert not ask(mini_built, "ASK { GRAPH ?g { res:ann-example a ckg:Actor } "
                                f"FILTER(?g != <{INFERRED}>) }}")


def test_subproperty_values_are_inferred(mini_built: Settings) -> None:
    """commands is a subproperty of leads: HermiT concludes leads."""
    assert ask(mini_built, f"ASK {{ GRAPH <{INFERRED}> {{ res:ann-example ckg:leads "
                            f"res:rocket-force }} }}")


def test_nothing_asserted_is_repeated_as_inferred(mini_built: Settings) -> None:
    assert not ask(mini_built, f"""ASK {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }}
        GRAPH <https://w3id.org/crisiskg/graph/mini> {{ ?s ?p ?o }} }}""")
