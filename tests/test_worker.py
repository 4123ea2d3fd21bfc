"""The gunicorn worker: keep-alive that no client starves on, and deadlines that expire once."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import quote, urlsplit

import requests
from werkzeug.wrappers import Response

from server.worker import Deadline

ASK = "ASK { ?s ?p ?o }"


def test_a_deadline_expires_once_its_time_is_up() -> None:
    expired: list[Response] = []
    deadline = Deadline(lambda respond: expired.append(respond()))
    deadline.check()  # not armed: nothing happens
    deadline.arm(3600, lambda: Response("late", status=503))
    deadline.check()  # an hour to go
    assert expired == []
    deadline.arm(0, lambda: Response("late", status=503))
    deadline.check()
    assert [r.status_code for r in expired] == [503]


def test_a_disarmed_deadline_never_expires() -> None:
    expired: list[Response] = []
    deadline = Deadline(lambda respond: expired.append(respond()))
    deadline.arm(0, lambda: Response("late", status=503))
    deadline.disarm()
    deadline.check()
    assert expired == []


def test_one_connection_serves_many_requests(embedded_server: str) -> None:
    """Keep-alive: a client that keeps its connection open sends request after request on it."""
    address = urlsplit(embedded_server)
    connection = http.client.HTTPConnection(address.hostname or "", address.port)
    connection.connect()
    assert connection.sock is not None
    local_port = connection.sock.getsockname()[1]
    for _ in range(5):
        connection.request("GET", f"/sparql?query={quote(ASK)}")
        answer = connection.getresponse()
        assert answer.status == 200 and answer.getheader("Connection") == "keep-alive"
        answer.read()
    assert connection.sock is not None and connection.sock.getsockname()[1] == local_port
    connection.close()


def test_more_clients_than_workers_are_all_served(embedded_server: str) -> None:
    """A kept connection holds a worker; it is let go when someone else waits, and clients
    whose idle connection was closed simply reconnect."""
    sessions = [requests.Session() for _ in range(5)]  # the live server has 2 workers
    for turn in range(25):
        answer = sessions[turn % 5].get(f"{embedded_server}/sparql", params={"query": ASK},
                                        timeout=30)
        assert answer.status_code == 200 and answer.json()["boolean"] is True


def test_a_pipelined_request_is_answered(embedded_server: str) -> None:
    """Two requests sent at once on one connection get two answers, in order."""
    address = urlsplit(embedded_server)
    request = (f"GET /sparql?query={quote(ASK)} HTTP/1.1\r\nHost: x\r\n\r\n"
               f"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((address.hostname or "", address.port or 80), timeout=30) as s:
        s.sendall(request)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2
    assert b'"boolean":true' in received.replace(b" ", b"")
