"""Choosing a result format: `format=` first, then `Accept` (with q-values), then the default.

Werkzeug parses Accept; each format also answers to the media types clients commonly send for
it (`application/json` for SPARQL JSON results, or for JSON-LD when the result is a graph).
"""

from __future__ import annotations

import functools

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from kg.errors import NotAcceptable
from kg.sparql import BOOLEAN, GRAPH, SOLUTIONS, ResultFormat, formats_for

__all__ = ["ALIASES", "choose", "choose_for_query", "media_types", "prefers_html"]

#: Media types, besides each format's own, that select it.
ALIASES: dict[str, tuple[str, ...]] = {
    "json": ("application/json",),
    "xml": ("application/xml", "text/xml"),
    "turtle": ("application/x-turtle",),
    "ntriples": ("text/plain",),
    "jsonld": ("application/json",),
    "rdfxml": ("application/xml", "text/xml"),
}


def _media_types(fmt: ResultFormat) -> tuple[str, ...]:
    return (fmt.media_type, *ALIASES.get(fmt.name, ()))


def choose(kind: str, accept: MIMEAccept, format_param: str | None = None) -> ResultFormat:
    """The format to serialize a result of `kind` in, or NotAcceptable naming the options."""
    candidates = formats_for(kind)
    if format_param:
        for fmt in candidates:
            if format_param == fmt.name or format_param in _media_types(fmt):
                return fmt
        raise NotAcceptable(f"format={format_param!r} cannot serve a {_noun(kind)}; use one of "
                            + ", ".join(f.name for f in candidates))
    if not accept:
        return candidates[0]
    # Parameters other than q (a charset, say) do not change which format is meant.
    accept = MIMEAccept([(value.split(";", 1)[0].strip(), quality) for value, quality in accept])
    refused = {value for value, quality in accept if quality == 0}
    offered = [(media_type, fmt) for fmt in candidates for media_type in _media_types(fmt)
               if media_type not in refused and fmt.media_type not in refused]
    best = accept.best_match([media_type for media_type, _ in offered])
    if best is None:
        raise NotAcceptable(f"none of the accepted media types ({accept}) can serve a "
                            f"{_noun(kind)}; this endpoint offers "
                            + ", ".join(f.media_type for f in candidates))
    return next(fmt for media_type, fmt in offered if media_type == best)


@functools.lru_cache(maxsize=256)
def choose_for_query(accept: str | None, format_param: str | None
                     ) -> tuple[tuple[str, ResultFormat | str], ...]:
    """For each kind of result a query may have, the format to use, or why none can be used
    (the message of a NotAcceptable): a query's kind is known only once it runs. Clients send
    few distinct Accept headers, so the answers are remembered."""
    choices: list[tuple[str, ResultFormat | str]] = []
    for kind in (SOLUTIONS, BOOLEAN, GRAPH):
        try:
            choices.append((kind, choose(kind, parse_accept_header(accept, MIMEAccept),
                                         format_param)))
        except NotAcceptable as error:
            choices.append((kind, error.message))
    return tuple(choices)


def media_types(*kinds: str) -> list[str]:
    """Every media type that selects a format of a result of `kinds`, preferred first."""
    return [media_type for kind in kinds for fmt in formats_for(kind)
            for media_type in _media_types(fmt)]


def prefers_html(accept: MIMEAccept, offered: list[str]) -> bool:
    """Whether the client asks for a page rather than any of the `offered` media types.

    Not Werkzeug's `best`: it ranks a media type with parameters above a higher quality, so
    Chrome's navigation header (`...,application/signed-exchange;v=b3;q=0.7`) would not be a
    browser. A client that accepts anything (`*/*`, curl) gets the data, listed first.
    """
    return accept.best_match([*offered, "text/html"]) == "text/html"


def _noun(kind: str) -> str:
    return "graph (CONSTRUCT or DESCRIBE)" if kind == GRAPH else f"{kind} result"
