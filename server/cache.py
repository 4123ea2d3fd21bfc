"""Answers to repeated queries, named by an ETag: small ones in memory, large ones on disk.

The key covers everything an answer depends on: the build (a rebuild or a write makes a new
one), the query, the dataset parameters, the formats chosen for each kind of result and the row
cap. So a client's If-None-Match can be answered 304 before any evaluation, and a hit is served
without evaluating again.

Small answers stay in each worker's memory, bounded in bytes. Larger ones are written once, in
the folder of the build they come from (``builds/<id>/answers/``), where every worker finds them
and from where gunicorn sends them with sendfile; they go when the build is pruned. A cache
that cannot write (a read-only store folder) only caches less.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["AnswerCache", "CachedAnswer", "StoredAnswer", "etag_for"]

_FOLDER = "answers"
_HEADER_MAX = 256  # the first line of a stored answer: its media type and truncation


@dataclass(frozen=True)
class CachedAnswer:
    """A complete answer: its body and what its headers need."""

    body: bytes
    media_type: str
    truncated: bool


@dataclass
class StoredAnswer:
    """An answer cached on disk: an open file positioned at its body, and its length."""

    file: BinaryIO
    length: int
    media_type: str
    truncated: bool


def etag_for(*parts: object) -> str:
    """A strong ETag (unquoted) for an answer determined by `parts`."""
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:32]


class AnswerCache:
    """Answers up to `max_answer_bytes` in memory (least recently used go first past
    `max_bytes`), larger ones on disk, at most `disk_bytes` a build."""

    def __init__(self, max_bytes: int, max_answer_bytes: int, disk_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_answer_bytes = max_answer_bytes
        self.disk_bytes = disk_bytes
        self._answers: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str, build: Path) -> CachedAnswer | StoredAnswer | None:
        """The cached answer, if any (and mark it recently used)."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
                return answer
        try:
            # Unbuffered: sendfile starts where the descriptor is, so no reader may be ahead.
            file = (build / _FOLDER / key).open("rb", buffering=0)
            first = file.read(_HEADER_MAX)
        except OSError:
            return None
        end = first.index(b"\n") + 1
        media_type, truncated = first[:end].split()  # "<media type> <0|1>"
        file.seek(end)
        length = os.fstat(file.fileno()).st_size - end
        return StoredAnswer(file, length, media_type.decode("ascii"), truncated == b"1")

    def put(self, key: str, build: Path, answer: CachedAnswer) -> None:
        """Keep an answer: in memory if it is small, else on disk."""
        if len(answer.body) > self.max_answer_bytes:
            self._store(key, build, answer)
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = answer
            self._size += len(answer.body)
            while self._size > self.max_bytes:
                _, evicted = self._answers.popitem(last=False)
                self._size -= len(evicted.body)

    def _store(self, key: str, build: Path, answer: CachedAnswer) -> None:
        if len(answer.body) > self.disk_bytes:
            return
        folder = build / _FOLDER
        try:
            folder.mkdir(exist_ok=True)
            self._make_room(folder, len(answer.body))
            # Written aside and renamed: another worker reads a whole answer or none.
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".")
            with os.fdopen(handle, "wb") as file:
                file.write(f"{answer.media_type} {int(answer.truncated)}\n".encode("ascii"))
                file.write(answer.body)
            os.replace(temporary, folder / key)
        except OSError:
            return  # cannot write here: the answer is simply not kept

    def _make_room(self, folder: Path, size: int) -> None:
        """Delete the oldest answers until `size` more bytes fit (large answers are few)."""
        entries = []
        for entry in os.scandir(folder):
            with contextlib.suppress(OSError):
                stat = entry.stat()
                entries.append((stat.st_mtime, stat.st_size, entry.path))
        total = sum(size for _, size, _ in entries)
        for _, entry_size, path in sorted(entries):
            if total + size <= self.disk_bytes:
                break
            with contextlib.suppress(OSError):
                os.unlink(path)
                total -= entry_size
