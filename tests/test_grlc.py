"""grlc serves queries/ over our endpoint: which saved queries it runs, and why not the others.

grlc 1.3.11 comes from PyPI into a virtualenv of its own, since it pins its dependencies
exactly (Flask, requests, rdflib, gunicorn, ...): `.cache/grlc-venv` in the repository, made
on the first run on a machine and reused while it holds that version. A failed install fails
the tests with pip's output. grlc then runs under gunicorn on a loopback port, its config.ini
pointing at the `embedded_server` endpoint and at the repository's queries/ folder.

What grlc does with a call, as these tests observe it: it pastes each value in place of its
variable everywhere in the file (an IRI as `<...>`, a date as `"..."^^xsd:date`, a number as
`"..."^^xsd:integer`, text as `"..."`), POSTs the whole file, `#+` lines included, as
`application/sparql-query` with the caller's Accept, and answers 200 with whatever the endpoint
answered, body and Content-Type, errors included.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from conftest import free_port, wait_until_serving

from kg.namespaces import Namespaces
from kg.querying import run_query
from kg.saved_queries import SavedQuery, load_catalog
from kg.settings import Settings

REPO = Path(__file__).resolve().parent.parent
QUERIES = REPO / "queries"
CATALOG = load_catalog(QUERIES).queries
GRLC = "grlc==1.3.11"
#: Survives between runs on one machine; a clean clone makes it afresh.
VENV = REPO / ".cache" / "grlc-venv"
#: Written last, so a venv whose install was interrupted is made again.
INSTALLED = VENV / "installed.txt"

RES = "https://w3id.org/crisiskg/resource/"
ONT = "https://w3id.org/crisiskg/ontology#"
#: The value given to each parameter name: resources and values with answers in the seed graph.
VALUES = {
    "actor": RES + "donald-trump",
    "entity": RES + "qassem-soleimani",
    "country": RES + "iraq-country",  # res:iraq is the state, which no event takes place in
    "type": ONT + "MissileStrike",
    "from": "2020-01-01",
    "to": "2020-01-31",
    "text": "soleimani",
    "minimum": "3",
}
#: Queries whose answer over the seed graph is empty, and why.
KNOWN_EMPTY: dict[str, str] = {}
#: The queries the README says grlc cannot run, with the value grlc pastes into their SELECT
#: list first (where the parser stops).
INCOMPATIBLE = {
    "events-between-dates": '"2020-01-01"^^xsd:date',
    "label-search": '"soleimani"',
    "busiest-actors": '"3"^^xsd:integer',
}
COMPATIBLE = sorted(name for name, q in CATALOG.items()
                    if q.grlc_compatible and not q.needs_internet)
SERVICE_REFUSED = "federated queries (SERVICE) are not enabled on this endpoint"


def _values(query: SavedQuery) -> dict[str, str]:
    return {p.name: VALUES[p.name] for p in query.parameters}



@pytest.fixture(scope="session")
def grlc_python() -> Path:
    """The Python of a virtualenv holding grlc, made once per machine (a lock keeps two test
    sessions from making it at once)."""
    VENV.parent.mkdir(exist_ok=True)
    python = VENV / "bin" / "python"
    with (VENV.parent / "grlc-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # A venv whose base Python is gone has a dangling bin/python: make it again too.
        if python.exists() and INSTALLED.exists() \
                and INSTALLED.read_text(encoding="utf-8").strip() == GRLC:
            return python
        shutil.rmtree(VENV, ignore_errors=True)
        started = time.monotonic()
        for command in ([sys.executable, "-m", "venv", str(VENV)],
                        [str(python), "-m", "pip", "install", "--no-input", GRLC]):
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n"
                            f"{done.stdout}\n{done.stderr}", pytrace=False)
        INSTALLED.write_text(GRLC + "\n", encoding="utf-8")
        print(f"made {VENV} in {time.monotonic() - started:.1f} s")  # shown with pytest -s
    return python


@dataclass(frozen=True)
class Grlc:
    """A running grlc: its URL and the log its workers write tracebacks to."""

    url: str
    log: Path

    def call(self, name: str, values: dict[str, str], accept: str | None = "text/csv",
             **extra: str) -> requests.Response:
        """GET the operation of a saved query, values in the query string."""
        return requests.get(f"{self.url}/api-local/{name}", params={**values, **extra},
                            headers={"Accept": accept}, timeout=60)

    def log_after(self, offset: int) -> str:
        """What the log says past `offset` (its size before a request)."""
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")


@pytest.fixture(scope="session")
def grlc(grlc_python: Path, embedded_server: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grlc]:
    """grlc under gunicorn on a loopback port, serving queries/ over `embedded_server`."""
    home = tmp_path_factory.mktemp("grlc")
    port = free_port()
    # grlc reads config.ini from its working directory when it is imported; the keys are
    # those of grlc's config.default.ini and grlc/static.py (user and password "none": no auth).
    (home / "config.ini").write_text(
        "[auth]\ngithub_access_token =\n\n"
        f"[local]\nlocal_sparql_dir = {QUERIES}/\n\n"
        f"[defaults]\nsparql_endpoint = {embedded_server}/sparql\n"
        f"server_name = 127.0.0.1:{port}\nuser = none\npassword = none\ndebug = False\n",
        encoding="utf-8")
    log = home / "grlc.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            # No control socket: gunicorn 25 would otherwise take ~/.gunicorn/gunicorn.ctl.
            [str(grlc_python), "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
             "--no-control-socket", "grlc.server:app"],
            cwd=home, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log, seconds=60)
    try:
        yield Grlc(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Received:
    """A request as an endpoint received it."""

    method: str
    content_type: str
    accept: str
    user_agent: str
    body: str


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[str, list[Received]]]:
    """A SPARQL endpoint on a loopback port that records each request and answers no rows."""
    received: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(Received(
                self.command, self.headers.get("Content-Type", ""),
                self.headers.get("Accept", ""), self.headers.get("User-Agent", ""),
                self.rfile.read(length).decode("utf-8")))
            body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _sent_by_grlc(grlc: Grlc, recorder: tuple[str, list[Received]], name: str,
                  values: dict[str, str], accept: str = "text/csv") -> Received:
    """The request grlc makes to its endpoint for a call (grlc takes `endpoint=` from the
    caller, so the recorder stands in for ours)."""
    endpoint, received = recorder
    received.clear()
    response = grlc.call(name, values, accept, endpoint=endpoint)
    assert response.status_code == 200, response.text
    assert len(received) == 1, received
    return received[0]


def _table(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """A SPARQL CSV answer's header and rows (line endings normalized by the csv module)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def _bag(rows: list[dict[str, str]]) -> Counter[tuple[tuple[str, str], ...]]:
    return Counter(tuple(sorted(row.items())) for row in rows)


def test_the_documented_queries_are_the_ones_grlc_cannot_run() -> None:
    assert sorted(n for n, q in CATALOG.items() if not q.grlc_compatible) == sorted(INCOMPATIBLE)
    assert [n for n, q in CATALOG.items() if q.needs_internet] == ["wikidata-facts"]
    assert len(COMPATIBLE) == len(CATALOG) - 4 == 21


def test_grlc_lists_an_operation_for_every_saved_query(grlc: Grlc, embedded_server: str) -> None:
    catalog = load_catalog(QUERIES)
    assert not catalog.problems, [str(p) for p in catalog.problems]
    response = requests.get(f"{grlc.url}/api-local/swagger",
                            headers={"Accept": "application/json"}, timeout=60)
    assert response.status_code == 200, response.text
    spec = response.json()
    assert spec["swagger"] == "2.0"
    assert spec["basePath"] == "/api-local/"
    assert spec["host"] == grlc.url.removeprefix("http://")  # grlc read our config.ini
    # A file grlc cannot parse gets no operation and a warning in the description.
    assert "errors-wrapper" not in spec["info"]["description"], spec["info"]["description"]
    assert sorted(spec["paths"]) == sorted(f"/{name}" for name in catalog.queries)
    for name, query in catalog.queries.items():
        operation = spec["paths"][f"/{name}"]["get"]
        assert operation["summary"] == query.summary, name
        assert operation["tags"] == list(query.tags), name
        given = {p["name"]: p for p in operation["parameters"]}
        # grlc lets every caller send a query to another endpoint (endpoint_in_url).
        assert given.pop("endpoint")["default"] == f"{embedded_server}/sparql"
        assert {n: (p["required"], None if "default" not in p else str(p["default"]),
                    tuple(p.get("enum", ()))) for n, p in given.items()} == \
            {p.name: (p.required, p.default, tuple(sorted(p.choices)))
             for p in query.parameters}, name


def test_grlc_posts_the_file_with_the_values_pasted_in(
        grlc: Grlc, recorder: tuple[str, list[Received]]) -> None:
    query = CATALOG["actor-involvement"]
    sent = _sent_by_grlc(grlc, recorder, query.name, _values(query), "text/csv")
    assert (sent.method, sent.content_type, sent.accept, sent.user_agent) == \
        ("POST", "application/sparql-query", "text/csv",
         "grlc/1.3.11 (https://github.com/CLARIAH/grlc)")
    text = (QUERIES / "actor-involvement.rq").read_text(encoding="utf-8")
    assert sent.body == text.replace("?_actor_iri", f"<{VALUES['actor']}>")


@pytest.mark.parametrize("name", COMPATIBLE)
def test_grlc_answers_as_crisiskg_does(name: str, grlc: Grlc, seed_built: Settings) -> None:
    query = CATALOG[name]
    values = _values(query)
    response = grlc.call(name, values, "text/csv")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv"), response.text
    ours = run_query(seed_built, query.text, fmt="csv", substitutions=query.substitutions(
        values, Namespaces(seed_built.base_iri).prefixes()))
    their_header, their_rows = _table(response.text)
    our_header, our_rows = _table(ours)
    # With SELECT *, a bound parameter stays a column of ours, holding its value; grlc pastes
    # the value in place of the variable, so its answer has no such column.
    bound = {p.variable: values[p.name] for p in query.parameters}
    assert set(our_header) - set(their_header) == set(bound)
    assert set(their_header) <= set(our_header)
    for row in our_rows:
        for variable, value in bound.items():
            assert row.pop(variable) == value
    assert _bag(their_rows) == _bag(our_rows)
    if name in KNOWN_EMPTY:
        assert their_rows == [], f"{name} has answers now: take it out of KNOWN_EMPTY"
    else:
        assert their_rows, f"{name} answers nothing for {values}"


@pytest.mark.parametrize("name", sorted(INCOMPATIBLE))
def test_grlc_breaks_a_select_list_that_names_a_parameter(
        name: str, grlc: Grlc, recorder: tuple[str, list[Received]], embedded_server: str,
        seed_built: Settings) -> None:
    query = CATALOG[name]
    values = _values(query)
    pasted = INCOMPATIBLE[name]
    # The query itself answers, with the values bound rather than pasted.
    assert _table(run_query(seed_built, query.text, fmt="csv", substitutions=query.substitutions(
        values, Namespaces(seed_built.base_iri).prefixes())))[1]
    sent = _sent_by_grlc(grlc, recorder, name, values).body
    assert not re.search(r"\?_\w+", sent)  # every parameter pasted, everywhere
    lines = sent.splitlines()
    select = next(i for i, line in enumerate(lines) if line.startswith("SELECT "))
    where = next(i for i in range(select, len(lines)) if "WHERE" in lines[i])
    assert pasted in "\n".join(lines[select:where + 1]).split("WHERE")[0]
    ours = requests.post(f"{embedded_server}/sparql", data=sent.encode("utf-8"), timeout=60,
                         headers={"Content-Type": "application/sparql-query",
                                  "Accept": "text/csv"})
    assert ours.status_code == 400
    # grlc answers 200 with our endpoint's error, body and Content-Type as they are.
    response = grlc.call(name, values, "text/csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ours.headers["Content-Type"]
    assert response.text == ours.text
    message = response.json()["message"]
    error = re.fullmatch(r"the query does not parse: error at (\d+):(\d+): expected WHERE",
                         message)
    assert error, message
    # The parser stops in the SELECT list, inside the pasted value.
    at, column = int(error[1]) - 1, int(error[2])
    assert select <= at <= where and pasted in lines[at], (lines[at], message)
    start = lines[at].index(pasted) + 1
    assert start <= column < start + len(pasted), (lines[at], message)


def test_grlc_passes_on_that_crisiskg_refuses_service(grlc: Grlc, embedded_server: str) -> None:
    text = (QUERIES / "wikidata-facts.rq").read_text(encoding="utf-8")
    ours = requests.post(f"{embedded_server}/sparql", data=text.encode("utf-8"), timeout=60,
                         headers={"Content-Type": "application/sparql-query",
                                  "Accept": "text/csv"})
    assert ours.status_code == 400
    response = grlc.call("wikidata-facts", {}, "text/csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == ours.headers["Content-Type"]
    assert response.text == ours.text
    assert response.json()["message"] == SERVICE_REFUSED


def test_grlc_ignores_defaults_and_fails_without_a_required_value(grlc: Grlc) -> None:
    assert CATALOG["actor-involvement"].parameters[0].default  # a default grlc lists...
    offset = grlc.log.stat().st_size
    response = grlc.call("actor-involvement", {}, "text/csv")
    assert response.status_code == 500  # ...but does not apply
    assert "AssertionError: Provided parameters do not cover the required parameters!" \
        in grlc.log_after(offset)


def test_grlc_fails_without_accept(grlc: Grlc) -> None:
    offset = grlc.log.stat().st_size
    response = grlc.call("iran-proxies", {}, accept=None)
    assert response.status_code == 500
    assert "KeyError: 'HTTP_ACCEPT'" in grlc.log_after(offset)


def test_grlc_answers_json_as_our_endpoint_does(grlc: Grlc, embedded_server: str) -> None:
    response = grlc.call("iran-proxies", {}, "application/json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    text = (QUERIES / "iran-proxies.rq").read_text(encoding="utf-8")
    ours = requests.post(f"{embedded_server}/sparql", data={"query": text}, timeout=60,
                         headers={"Accept": "application/json"})
    assert json.loads(response.text) == ours.json()
    assert ours.json()["results"]["bindings"]

