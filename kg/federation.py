"""Which endpoints a query may reach through SERVICE: an allow-list, checked before it runs.

pyoxigraph evaluates SERVICE by sending the inner pattern to the endpoint named, so without a
check anyone could make the server send requests to any address, internal ones included. The
targets are read from the query by rdflib's SPARQL parser (with the same prefixes and base as
the evaluation), and the query is refused, before anything is evaluated or contacted, unless
every target is an IRI on the list. A target given by a variable is refused: it cannot be
known before evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rdflib.plugins.sparql.algebra import translateQuery, traverse
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import URIRef

from kg.errors import QueryError
from kg.sparql_scan import mentions_service

__all__ = ["check_services", "service_targets"]


def service_targets(sparql: str, prefixes: Mapping[str, str], base_iri: str | None
                    ) -> list[str | None]:
    """The endpoint of each SERVICE in the query, in order; None for one given by a variable.
    QueryError if rdflib cannot read the query (it then cannot be checked)."""
    try:
        algebra = translateQuery(parseQuery(sparql), base=base_iri, initNs=dict(prefixes))
    except Exception as error:  # rdflib raises parser and translation errors of many classes
        raise QueryError(f"the query uses SERVICE, and its endpoints could not be checked: "
                         f"{error}") from None
    targets: list[str | None] = []

    def visit(node: object) -> None:
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            term = node.get("term")
            targets.append(str(term) if isinstance(term, URIRef) else None)

    traverse(algebra.algebra, visit)
    return targets


def check_services(sparql: str, prefixes: Mapping[str, str], base_iri: str | None,
                   allowed: Iterable[str]) -> None:
    """QueryError unless every SERVICE of the query names an allowed endpoint."""
    if not mentions_service(sparql):
        return
    allowed = tuple(allowed)
    if not allowed:
        raise QueryError("federated queries (SERVICE) are not enabled on this endpoint")
    for target in service_targets(sparql, prefixes, base_iri):
        if target is None:
            raise QueryError("SERVICE with a variable is not allowed: name the endpoint, one "
                             "of " + ", ".join(allowed))
        if target not in allowed:
            raise QueryError(f"SERVICE <{target}> is not allowed on this endpoint; the allowed "
                             "endpoints are " + ", ".join(allowed) + " (setting KG_SERVICE_ALLOW)")
