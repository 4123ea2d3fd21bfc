"""Answers to repeated queries, kept in memory and named by an ETag.

The key covers everything an answer depends on: the dataset version (a rebuild or a write
changes it), the query, the dataset parameters, the formats chosen for each kind of result and
the row cap. So a client's If-None-Match can be answered 304 before any evaluation, and a hit is
served without evaluating again. Each worker process keeps its own cache, bounded in bytes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["AnswerCache", "CachedAnswer", "etag_for"]


@dataclass(frozen=True)
class CachedAnswer:
    """A complete answer: its body and what its headers need."""

    body: bytes
    media_type: str
    truncated: bool


def etag_for(*parts: object) -> str:
    """A strong ETag (unquoted) for an answer determined by `parts`."""
    digest = hashlib.sha256("\x1f".join(repr(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:32]


class AnswerCache:
    """A least-recently-used cache of answers, at most `max_bytes` in all."""

    def __init__(self, max_bytes: int, max_answer_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_answer_bytes = max_answer_bytes
        self._answers: OrderedDict[str, CachedAnswer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedAnswer | None:
        """The cached answer, if any (and mark it recently used)."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: str, answer: CachedAnswer) -> None:
        """Keep an answer, evicting the least recently used ones to stay within bounds."""
        if len(answer.body) > self.max_answer_bytes:
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = answer
            self._size += len(answer.body)
            while self._size > self.max_bytes:
                _, evicted = self._answers.popitem(last=False)
                self._size -= len(evicted.body)

    def keep_while_streaming(self, key: str, chunks: Iterator[bytes], media_type: str,
                             truncated: bool) -> Iterator[bytes]:
        """Pass `chunks` through, and cache the answer if it completes and is small enough."""
        return _Keeping(self, key, chunks, media_type, truncated)


class _Keeping:
    """Chunks passed through to the client and kept for the cache; close() reaches the source
    even if the server never iterates (a HEAD request)."""

    def __init__(self, cache: AnswerCache, key: str, chunks: Iterator[bytes], media_type: str,
                 truncated: bool) -> None:
        self._cache, self._key, self._chunks = cache, key, chunks
        self._media_type, self._truncated = media_type, truncated
        self._kept: list[bytes] | None = []
        self._size = 0

    def __iter__(self) -> _Keeping:
        return self

    def __next__(self) -> bytes:
        try:
            chunk = next(self._chunks)
        except StopIteration:
            if self._kept is not None:
                self._cache.put(self._key, CachedAnswer(b"".join(self._kept), self._media_type,
                                                        self._truncated))
                self._kept = None
            raise
        if self._kept is not None:
            self._size += len(chunk)
            if self._size <= self._cache.max_answer_bytes:
                self._kept.append(chunk)
            else:
                self._kept = None  # too big to keep: stream it, remember nothing
        return chunk

    def close(self) -> None:
        """Close the source (which settles its evaluator)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
