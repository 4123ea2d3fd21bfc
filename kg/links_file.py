"""Writing accepted links into the corpus's links.yaml, so that nothing written is lost.

Items are appended as text, so the file's comments and order stay as the researcher left them.
The corpus is read again afterwards; if it no longer loads, the file is put back as it was.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import yaml

from kg.annotations import LINKS_FILE, load_corpus
from kg.errors import AnnotationError, Problem
from kg.link_proposals import Proposal
from kg.vocabulary import Vocabulary

__all__ = ["append_links", "link_items"]


def link_items(proposals: Iterable[Proposal], placed: Iterable[str] = ()) -> list[str]:
    """links.yaml items (one flow mapping a line) for the proposals, with the point each brings.

    `placed` are entities that have coordinates already; they get no second point.
    """
    items, has_point = [], set(placed)
    for proposal in proposals:
        match = ", match: close" if proposal.match == "close" else ""
        items.append(f"{{entity: {_scalar(proposal.entity)}, kb: {proposal.kb}, "
                     f"id: {_scalar(proposal.id)}{match}, source: {_scalar(proposal.source)}}}")
        if proposal.point is not None and proposal.entity not in has_point:
            lat, long, source = proposal.point
            items.append(f"{{entity: {_scalar(proposal.entity)}, lat: {lat!r}, "
                         f"long: {long!r}, source: {_scalar(source)}}}")
            has_point.add(proposal.entity)
    return items


def _scalar(value: str | None) -> str:
    """A YAML double-quoted scalar, so 'yes' stays a string and every character comes back.

    JSON's string form is one, except that JSON leaves raw the characters YAML reads as line
    breaks; they are escaped.
    """
    return json.dumps(value, ensure_ascii=False).translate(_YAML_LINE_BREAKS)


_YAML_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028",
                                   "\u2029": "\\u2029"})


def append_links(corpus_dir: Path, items: list[str], vocabulary: Vocabulary) -> Path:
    """Append the items to links.yaml and check the corpus still loads; else restore the file."""
    path = corpus_dir / LINKS_FILE
    original = path.read_bytes() if path.exists() else None
    text = original.decode("utf-8") if original is not None else ""
    before = _count(text, path)
    if before is None:
        text += ("" if not text or text.endswith("\n") else "\n") + "links:\n"
        before = 0
    elif text and not text.endswith("\n"):
        text += "\n"
    # Indented as the file's last item is ('- ' at the margin is PyYAML's own layout).
    items_so_far = _ITEM.findall(text)
    indent = items_so_far[-1] if items_so_far else "  "
    text += f"{indent}# added by kg link on {date.today().isoformat()}\n"
    text += "".join(f"{indent}- {item}\n" for item in items)
    try:
        after = _count(text, path)
    except AnnotationError:
        after = None  # the items did not land in the list: said below
    if after != before + len(items):
        raise AnnotationError(
            f"cannot append to {path}", (Problem(
                str(path), "the `links:` list is not the last thing in the file, in block style",
                "move `links:` to the end of the file, one `- item` per line"),))
    _write(path, text)
    try:
        load_corpus(corpus_dir, vocabulary)
    except AnnotationError:
        if original is None:
            path.unlink()
        else:
            _write(path, original.decode("utf-8"))
        raise
    return path


_ITEM = re.compile(r"^( *)- ", re.MULTILINE)


def _count(text: str, path: Path) -> int | None:
    """How many items the `links:` list has; None if the file has no such list yet."""
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        problem = Problem(str(path), str(error), "fix the file, then retry")
        raise AnnotationError(f"{path} is not YAML", (problem,)) from None
    if not isinstance(data, dict) or "links" not in data:
        return None
    return len(data["links"] or ())


def _write(path: Path, text: str) -> None:
    # Write beside, then rename: a crash midway leaves the old file, never half a new one.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
