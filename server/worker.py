"""The gunicorn worker `kg serve` runs: gunicorn's sync worker, plus keep-alive and deadlines.

Keep-alive. gunicorn's sync worker closes the connection after every response, so each request
pays for a new TCP connection and a graceful close; Oxigraph server keeps connections open.
Here a connection stays open between requests while no other connection waits to be accepted:
a kept connection holds the worker, so as soon as another client queues, the worker closes the
connection after its current response (or, if idle, at once) and takes the next one.

Deadlines. pyoxigraph cannot cancel a query (oxigraph#1926) but releases the GIL while it
evaluates. So the app arms a deadline (``environ["kg.deadline"]``) around the evaluation, and a
watchdog thread checks it. When it passes, the watchdog sends the app's 503 on the request's
connection and ends the process: the evaluation stops with it, gunicorn starts a fresh worker,
and the other workers go on serving. gunicorn's own worker timeout, longer than the query
timeout, remains the last resort should the watchdog itself be stuck.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gunicorn import http, util
from gunicorn.http import wsgi
from gunicorn.workers.sync import SyncWorker
from werkzeug.wrappers import Response

__all__ = ["Deadline", "KeepAliveWorker"]

#: How often the watchdog looks at the deadline: the precision of timeouts.
_TICK = 0.05
#: How long an idle kept connection may still bring a request once another client waits.
_GRACE = 0.02
#: Exit status of a worker that ended a query past its deadline (for gunicorn's log).
TIMED_OUT_EXIT = 75


class Deadline:
    """A time limit on the work of the current request, watched by another thread.

    `arm` before the work and `disarm` after it; if the limit passes first, `on_expiry` runs in
    the watchdog thread and gives the response to send instead, and the process ends.
    """

    def __init__(self, expire: Callable[[Callable[[], Response]], None]) -> None:
        self._expire = expire
        self._lock = threading.Lock()
        self._expires_at: float | None = None
        self._on_expiry: Callable[[], Response] | None = None

    def arm(self, seconds: float, on_expiry: Callable[[], Response]) -> None:
        """Start the clock for the work about to begin."""
        with self._lock:
            self._on_expiry = on_expiry
            self._expires_at = time.monotonic() + seconds

    def disarm(self) -> None:
        """The work is done: its response is the request's to send."""
        with self._lock:
            self._expires_at = self._on_expiry = None

    def check(self) -> None:
        """Expire the work if its time is up (called by the watchdog)."""
        with self._lock:  # held to the end: a disarm racing with expiry waits, then never runs
            if self._expires_at is None or time.monotonic() < self._expires_at:
                return
            assert self._on_expiry is not None
            self._expire(self._on_expiry)


class KeepAliveWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, with keep-alive while nobody waits, and request deadlines."""

    def init_process(self) -> None:
        self._response: Any = None  # gunicorn's response for the request being served
        self.deadline = Deadline(self._expire)
        threading.Thread(target=self._watch, name="kg-watchdog", daemon=True).start()
        super().init_process()  # runs the worker's loop; does not return

    def _watch(self) -> None:
        while True:
            time.sleep(_TICK)
            self.deadline.check()

    def _expire(self, on_expiry: Callable[[], Response]) -> None:
        """Answer the timed-out request, if nothing of its answer has gone out, then end."""
        try:
            response = self._response
            if response is not None and not response.headers_sent:
                answer = on_expiry()
                response.force_close()
                response.start_response(answer.status, answer.headers.to_wsgi_list())
                response.write(answer.get_data())
                response.close()
        except Exception:  # whatever happens here, the evaluation must stop
            self.log.exception("Error answering a query past its deadline")
        finally:
            os._exit(TIMED_OUT_EXIT)

    def handle(self, listener: socket.socket, client: socket.socket, addr: Any) -> None:
        """Serve requests on one connection until it closes or someone else waits."""
        request = None
        idle = False
        try:
            parser = http.get_parser(self.cfg, client, addr)
            while True:
                request = next(parser)
                if not self.handle_request(listener, request, client, addr):
                    break
                drained = parser.finish_body(deadline=time.monotonic() + 5)
                self.notify()
                if not drained:
                    break
                if not self._next_request_comes(listener, client, parser):
                    idle = True
                    break
        except (StopIteration, http.errors.NoMoreData):
            pass
        except OSError as error:
            self.log.debug("Connection ended: %s", error)
        except BaseException as error:  # gunicorn's own treatment: a 400 for a bad request
            self.handle_error(request, client, addr, error)
        finally:
            if idle:
                # Nothing is unread, so nothing to linger for; a graceful close would wait
                # for the client, which may not use the connection again for a long time.
                client.close()
            else:
                util.close_graceful(client)

    def _next_request_comes(self, listener: socket.socket, client: socket.socket,
                            parser: Any) -> bool:
        """Wait for the connection's next request; False if it goes idle for the keep-alive
        time, if another connection is waiting, or if the worker is to stop."""
        if parser.unreader.buf.getbuffer().nbytes:  # a pipelined request is already here
            return True
        # The worker's signal pipe wakes the wait when gunicorn asks the worker to stop.
        ready, _, _ = select.select([client, listener, self.PIPE[0]], [], [], self.cfg.keepalive)
        if listener in ready and client not in ready and self.PIPE[0] not in ready:
            # Someone waits. Closing now would race with a request the client is about to
            # send (it would get a reset); a client that is not idle sends within a moment.
            ready, _, _ = select.select([client], [], [], _GRACE)
        return self.alive and client in ready and self.PIPE[0] not in ready

    def handle_request(self, listener: socket.socket, request: Any, client: socket.socket,
                       addr: Any) -> bool:
        """Serve one request; whether the connection may serve another."""
        response, environ = wsgi.create(request, client, addr, listener.getsockname(), self.cfg)
        environ["kg.deadline"] = self.deadline
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        if not self.alive or _waiting(listener):
            response.force_close()
        started = datetime.now()
        self._response = response
        answer: Any = None
        try:
            answer = self.wsgi(environ, response.start_response)
            if isinstance(answer, environ["wsgi.file_wrapper"]):
                response.write_file(answer)  # a cached answer on disk: sendfile
            else:
                for chunk in answer:
                    response.write(chunk)
            response.close()
        except OSError:
            raise  # the connection is gone: handle() closes it
        except Exception:
            if not response.headers_sent:
                raise  # handle() answers 500
            # Part of the answer went out: an error message now would corrupt it.
            self.log.exception("Error while sending an answer")
            return False
        finally:
            self._response = None
            self.log.access(response, request, environ, datetime.now() - started)
            if hasattr(answer, "close"):
                answer.close()
        return not response.should_close()


def _waiting(listener: socket.socket) -> bool:
    """Whether a connection waits to be accepted (by this worker or another)."""
    ready, _, _ = select.select([listener], [], [], 0)
    return bool(ready)
