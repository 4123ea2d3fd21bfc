"""Binding a query's variables for an engine that takes only text: a VALUES block at the head
of the query's WHERE group.

The embedded store binds a saved query's parameters with pyoxigraph's `substitutions`
(SEP-0007), before evaluation. A remote SPARQL server has no such parameter, and pasting values
in place of variables (as grlc does) breaks a SELECT list. A VALUES block as the first element of
the outermost group joins the values with everything in that group, so its triple patterns and
its FILTERs see them, which is what pre-binding does for the queries crisiskg saves. It is not
pre-binding everywhere: a variable used only inside a nested group, a UNION branch or a
subquery is not bound there (the values join the outer group afterwards). The group
is found with strings, IRIs, comments and names blanked out (kg.sparql_scan), so no brace or
WHERE inside them is mistaken for the query's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyoxigraph as ox

from kg.errors import QueryError
from kg.sparql_scan import NOT_SYNTAX

__all__ = ["bind_by_values"]

_OPAQUE = re.compile(NOT_SYNTAX)
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_QUERY_FORM = re.compile(r"\b(SELECT|CONSTRUCT|DESCRIBE|ASK)\b", re.IGNORECASE)


def _blank_opaque(text: str) -> str:
    """The text with every string, IRI, comment and name replaced by spaces."""
    return _OPAQUE.sub(lambda token: " " * len(token.group(0)), text)


def _where_group_start(text: str) -> int:
    """The offset just after the `{` that opens the query's WHERE group."""
    visible = _blank_opaque(text)
    form = _QUERY_FORM.search(visible)
    if form is None:
        raise QueryError("cannot bind values: no SELECT, CONSTRUCT, DESCRIBE or ASK found")
    if form.group(1).upper() == "CONSTRUCT" and _WHERE.match(visible[form.end():].lstrip()):
        raise QueryError("cannot bind values in the short form CONSTRUCT WHERE { ... }, whose "
                         "group is also its template: write CONSTRUCT { ... } WHERE { ... }")
    depth = 0
    position = form.end()
    while position < len(visible):
        char = visible[position]
        if char in "})":
            depth -= 1
        elif char == "(":
            depth += 1  # an EXISTS { ... } in a SELECT expression is not the WHERE group
        elif depth == 0:
            where = _WHERE.match(visible, position)
            if where is not None:
                return where.end()
            # The keyword WHERE is optional in SELECT, ASK and DESCRIBE: the group is then the
            # first one at the top level (a CONSTRUCT's template comes before its WHERE).
            if char == "{" and form.group(1).upper() != "CONSTRUCT":
                return position + 1
            if char == "{":
                depth += 1
        elif char == "{":
            depth += 1
        position += 1
    raise QueryError("cannot bind values: the query has no WHERE group")


def bind_by_values(query: str, substitutions: Mapping[ox.Variable, object]) -> str:
    """The query with `substitutions` bound by a VALUES block opening its WHERE group."""
    if not substitutions:
        return query
    names = " ".join(str(variable) for variable in substitutions)
    values = " ".join(str(term) for term in substitutions.values())
    at = _where_group_start(query)
    return f"{query[:at]} VALUES ({names}) {{ ({values}) }}\n{query[at:]}"
