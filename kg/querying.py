"""Running a SPARQL query on the built store and rendering the answer for a terminal."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.backends import open_store
from kg.errors import QueryError
from kg.namespaces import Namespaces, short_iri
from kg.settings import Settings
from kg.sparql import FORMATS, GRAPH, result_kind

if TYPE_CHECKING:  # kg.saved_queries imports this module
    from kg.saved_queries import Substitutions

__all__ = ["render_table", "run_query"]

def _cell(term: object, prefixes: dict[str, str]) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        short = short_iri(term.value, prefixes)
        return short if short != term.value else f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def render_table(results: ox.QuerySolutions, prefixes: dict[str, str]) -> str:
    """A SELECT result as an aligned text table, IRIs shortened with the project's prefixes."""
    names = [v.value for v in results.variables]
    try:
        rows = [[_cell(solution[name], prefixes) for name in names] for solution in results]
    except OSError as error:
        raise QueryError(f"the query failed: {error}") from error
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines) + "\n"


def _serialize(result: object, fmt: str) -> bytes:
    """A SELECT/ASK result in a results format (json, xml, csv, tsv), a graph as Turtle."""
    fmt = "turtle" if result_kind(result) == GRAPH else fmt
    chosen = next(f for f in FORMATS if f.name == fmt)
    buffer = io.BytesIO()
    try:  # pyoxigraph evaluates lazily: evaluation errors surface while serializing
        result.serialize(buffer, chosen.rdf_format or chosen.results_format)  # type: ignore[attr-defined]
    except OSError as error:
        raise QueryError(f"the query failed: {error}") from error
    return buffer.getvalue()


def run_query(settings: Settings, sparql: str, fmt: str = "table",
              substitutions: Substitutions | None = None) -> str:
    """Evaluate `sparql` (its variables pre-bound to `substitutions`) over the current store;
    render it as a table, JSON, CSV or TSV."""
    prefixes = Namespaces(settings.base_iri).prefixes()
    with open_store(settings) as store:
        result = store.query(sparql, prefixes=prefixes, substitutions=substitutions or None)
        if isinstance(result, ox.QueryBoolean) and fmt == "table":
            return ("true" if bool(result) else "false") + "\n"
        if isinstance(result, ox.QuerySolutions) and fmt == "table":
            return render_table(result, prefixes)
        return _serialize(result, "json" if fmt == "table" else fmt).decode("utf-8")
