"""Evaluating queries in a process that can be killed: timeouts that stop the work.

pyoxigraph cannot cancel a running query (oxigraph#1926), and a thread cannot be stopped. So a
QueryExecutor owns a child process (spawned, not forked: it inherits no open store) that opens
the store read-only, evaluates one query at a time and streams pyoxigraph's serialization back
through a pipe. When a query passes its deadline, the parent kills the child, which stops the
work at once, and starts a fresh one. Each server worker has its own executor.

Messages from the child are tagged bytes: F (kind and format), D (a chunk of output),
E (an error), Z (the end).
"""

from __future__ import annotations

import ctypes
import json
import multiprocessing
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import errors
from kg.errors import KGError, QueryError, QueryTimeout
from kg.sparql import BOOLEAN, FORMATS, SOLUTIONS, Answer, Dataset, result_kind

__all__ = ["QueryExecutor", "QueryRequest"]

_CHUNK = 64 * 1024
#: Most bytes of rows an answer may hold, whatever the row cap: a few huge literals must not
#: exhaust memory.
BYTE_CAP = 256 * 1024 * 1024
_FORMATS_BY_NAME = {f.name: f for f in FORMATS}


@dataclass(frozen=True)
class QueryRequest:
    """Everything the child needs to answer one query."""

    build: str
    query: str
    dataset: Dataset
    prefixes: dict[str, str]
    base_iri: str | None
    #: For each kind of result, the format to use, or the error to give (content negotiation
    #: happens in the parent, before the query runs).
    formats: dict[str, tuple[str, str]]  # kind -> ("format", name) or (error class, message)
    #: The most rows (solutions, or triples of a graph) an answer may have.
    row_cap: int = 100_000
    #: Seconds of CPU the child may spend on this query before the kernel stops it (a second
    #: line of defence, should the parent be unable to: see _child).
    timeout: float = 30.0


class _PipeWriter:
    """A file-like for pyoxigraph's serializers that sends D-chunks through the pipe."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= _CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._connection.send_bytes(b"D" + bytes(self._buffer))
            self._buffer.clear()


class _CapReached(Exception):
    """More rows than the cap: stop serializing."""


class _LineBuffer:
    """Collects a one-row-per-line serialization, up to a number of lines."""

    def __init__(self, max_lines: int) -> None:
        self.data = bytearray()
        self.lines = 0
        self._max_lines = max_lines

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        self.lines += chunk.count(b"\n")
        if self.lines > self._max_lines or len(self.data) > BYTE_CAP:
            raise _CapReached
        return len(chunk)

    def flush(self) -> None:
        """Nothing to flush: the rows stay here until they are read back."""

    def first_lines(self, count: int) -> bytes:
        end = -1
        for _ in range(count):
            end = self.data.index(b"\n", end + 1)
        return bytes(self.data[: end + 1])


def _capped(result: Any, kind: str, row_cap: int) -> tuple[Any, bool]:
    """The result with at most `row_cap` rows, and whether rows were cut.

    Solutions go through TSV and graphs through N-Triples, both one row per line, so rows are
    counted exactly without parsing; pyoxigraph then reads the rows back for the requested
    format. The buffer is bounded by the cap.
    """
    if kind == BOOLEAN:
        return result, False
    header = 1 if kind == SOLUTIONS else 0
    buffer = _LineBuffer(row_cap + header)
    truncated = False
    try:
        if kind == SOLUTIONS:
            result.serialize(buffer, ox.QueryResultsFormat.TSV)
        else:
            result.serialize(buffer, ox.RdfFormat.N_TRIPLES)
    except _CapReached:
        truncated = True
    if truncated:
        complete_lines = buffer.data.count(b"\n")  # the byte cap may stop mid-row
        rows = buffer.first_lines(min(row_cap + header, complete_lines))
    else:
        rows = bytes(buffer.data)
    if kind == SOLUTIONS:
        return ox.parse_query_results(rows, ox.QueryResultsFormat.TSV), truncated
    return _Triples(list(ox.parse(rows, ox.RdfFormat.N_TRIPLES))), truncated


class _Triples:
    """Parsed triples that serialize like a CONSTRUCT result."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self._triples = triples

    def serialize(self, output: Any, fmt: ox.RdfFormat) -> None:
        ox.serialize(self._triples, output, fmt)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, so no evaluation outlives it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the CPU limit below still holds
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _limit_cpu(seconds: float) -> None:
    """Let the kernel stop this process if the query uses more than `seconds` of CPU."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (int(used + seconds) + 5, hard))


def _child(connection: Connection) -> None:
    """The child's loop: open the build asked for, answer, repeat until the pipe closes."""
    from kg.store import ReadStore

    _die_with_parent()
    store: ReadStore | None = None
    while True:
        try:
            request: QueryRequest = connection.recv()
        except EOFError:
            return
        _limit_cpu(request.timeout)
        try:
            if store is None or str(store.build) != request.build:
                if store is not None:
                    store.close()
                store = ReadStore(Path(request.build))
            result = store.query(request.query, prefixes=request.prefixes,
                                 base_iri=request.base_iri, **request.dataset.query_arguments())
            kind = result_kind(result)
            choice, detail = request.formats[kind]
            if choice != "format":
                raise getattr(errors, choice)(detail)
            fmt = _FORMATS_BY_NAME[detail]
            result, truncated = _capped(result, kind, request.row_cap)
            connection.send_bytes(b"F" + json.dumps([kind, fmt.name, truncated]).encode())
            writer = _PipeWriter(connection)
            result.serialize(writer, fmt.rdf_format or fmt.results_format)
            writer.flush()
            del result
            connection.send_bytes(b"Z")
        except KGError as error:
            connection.send_bytes(b"E" + json.dumps([type(error).__name__, error.message]).encode())
        except (SyntaxError, OSError, ValueError) as error:
            # Parse errors surface in store.query; evaluation errors while serializing.
            message = f"the query failed: {error}"
            connection.send_bytes(b"E" + json.dumps(["QueryError", message]).encode())


@dataclass
class _Child:
    """One evaluating process and the parent's end of its pipe."""

    process: multiprocessing.process.BaseProcess
    connection: Connection

    @classmethod
    def start(cls) -> _Child:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe(duplex=True)
        process = context.Process(target=_child, args=(child,), name="kg-query", daemon=True)
        process.start()
        child.close()
        return cls(process, parent)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: the evaluation stops now, whatever it was doing
        self.process.join(timeout=5)
        self.connection.close()


class QueryExecutor:
    """Killable child processes that evaluate queries, each answer with a deadline.

    A child serves one answer at a time and returns to the pool when the answer is complete;
    one whose answer times out, fails to be read to the end, or dies, is killed. Under
    gunicorn's sync workers the pool holds one child per worker; a threaded server grows it to
    the number of answers being streamed at once.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._idle: list[_Child] = []
        self._lock = threading.Lock()

    def _take(self) -> _Child:
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.process.is_alive():
                    return child
                child.kill()
        return _Child.start()

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            self._idle.append(child)

    def _receive(self, child: _Child, deadline: float) -> tuple[bytes, bytes]:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not child.connection.poll(remaining):
            raise QueryTimeout(f"the query ran past the time limit of {self.timeout:g} s and was "
                               "stopped; narrow it (a LIMIT, more specific patterns) and retry")
        try:
            message = child.connection.recv_bytes()
        except EOFError:
            raise QueryError("the query process ended unexpectedly") from None
        return message[:1], message[1:]

    def run(self, request: QueryRequest) -> Answer:
        """Answer `request`; past the deadline, kill the evaluation and raise QueryTimeout."""
        child = self._take()
        deadline = time.monotonic() + self.timeout
        try:
            child.connection.send(request)
            head = self._receive(child, deadline)
            first = self._receive(child, deadline) if head[0] == b"F" else head
        except BaseException:
            child.kill()  # timed out, died or interrupted: it may still be evaluating
            raise
        if first[0] == b"E":  # the child reported an error and is ready for the next query
            self._give_back(child)
            raise _error(first[1])
        kind, name, truncated = json.loads(head[1])
        chunks = _Chunks(self, child, first, idle_timeout=max(60.0, self.timeout))
        return Answer(kind, _FORMATS_BY_NAME[name], chunks, truncated=truncated)



class _Chunks:
    """The rest of an answer, read from its child: an iterator with a close() that always
    settles the child (back to the pool when the answer is complete, killed otherwise), even
    when the server never iterates it (HEAD requests, clients that go away)."""

    def __init__(self, executor: QueryExecutor, child: _Child, first: tuple[bytes, bytes],
                 idle_timeout: float) -> None:
        self._executor = executor
        self._child: _Child | None = child
        self._pending: tuple[bytes, bytes] | None = first
        self._idle_timeout = idle_timeout

    def __iter__(self) -> _Chunks:
        return self

    def __next__(self) -> bytes:
        if self._child is None:
            raise StopIteration
        if self._pending is not None:
            (tag, payload), self._pending = self._pending, None
        else:
            try:
                # The answer is computed before it streams: past this point only a stalled
                # reader or child can stop it, so the limit is on idleness, not on the total.
                tag, payload = self._executor._receive(
                    self._child, time.monotonic() + self._idle_timeout)
            except BaseException:
                self.close()
                raise
        if tag == b"D":
            return payload
        child, self._child = self._child, None
        self._executor._give_back(child)  # Z or E: the child has finished and waits
        if tag == b"E":
            raise _error(payload)
        raise StopIteration

    def close(self) -> None:
        """Settle the child: an unfinished answer leaves it mid-stream, so it is killed."""
        if self._child is not None:
            child, self._child = self._child, None
            child.kill()


def _error(payload: bytes) -> KGError:
    name, message = json.loads(payload)
    cls: Any = getattr(errors, name, QueryError)
    return cls(message)  # type: ignore[no-any-return]
