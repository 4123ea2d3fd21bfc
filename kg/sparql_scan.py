"""Scanning SPARQL text for its keywords without parsing it: what is a string, an IRI, a
comment, a variable or a prefixed name is skipped, so a keyword inside one is not mistaken for
the query's own. Used where a check must run before (or without) pyoxigraph's parser."""

from __future__ import annotations

import re

__all__ = ["NOT_SYNTAX", "mentions_service"]

# SPARQL tokens whose text is not syntax: strings, IRIs, comments, variables, prefixed names
# (with the escapes and %HH a local name may hold): a keyword is looked for only elsewhere.
NOT_SYNTAX = (
    r"""'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r'''|"""(?:[^"\\]|\\.|"(?!""))*"""'''
    r"""|'(?:[^'\\\n]|\\.)*'"""
    r'''|"(?:[^"\\\n]|\\.)*"'''
    r"""|<[^<>"{}|^`\\\x00-\x20]*>"""
    r"""|\#[^\n]*"""
    r"""|[?$]\w+"""
    r"""|[\w.-]*:(?:[\w.:-]|\\[_~.!$&'()*+,;=/?#@%-]|%[0-9A-Fa-f]{2})*"""
)
_SERVICE_SCAN = re.compile(NOT_SYNTAX + r"|(?P<service>\bSERVICE\b)", re.IGNORECASE)


def mentions_service(sparql: str) -> bool:
    """Whether the query uses the SERVICE keyword (outside strings, IRIs, comments, names).

    pyoxigraph does not decode \\u escapes in keywords, so text without "service" in any case
    cannot use it; the scan decides the rest.
    """
    if "service" not in sparql.lower():
        return False
    return any(m.group("service") for m in _SERVICE_SCAN.finditer(sparql))
