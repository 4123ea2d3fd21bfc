"""Settings, declared once as data: defaults, overridden by KG_* environment variables."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from kg.errors import SettingsError

__all__ = ["DEFAULT_BASE_IRI", "SETTINGS_HELP", "Settings"]

DEFAULT_BASE_IRI = "https://w3id.org/crisiskg/"

#: Each setting's environment variable and what it does (the README documents each one).
SETTINGS_HELP: dict[str, tuple[str, str]] = {
    "base_iri": ("KG_BASE_IRI", "Base IRI of every resource, graph and ontology term."),
    "store_dir": ("KG_STORE_DIR", "Folder holding the built stores and the `current` link."),
    "corpus_dir": ("KG_CORPUS_DIR", "Folder of the annotated corpus (default: the packaged one)."),
    "queries_dir": ("KG_QUERIES_DIR",
                    "Folder of saved queries, `*.rq` (default: the packaged `queries/`)."),
    "host": ("KG_HOST", "Address `kg serve` binds to."),
    "port": ("KG_PORT", "Port `kg serve` listens on."),
    "workers": ("KG_WORKERS", "Number of gunicorn worker processes for `kg serve`."),
    "query_timeout": ("KG_QUERY_TIMEOUT",
                      "Seconds a query may run before it is stopped and answered with 503."),
    "row_cap": ("KG_ROW_CAP", "Most rows (solutions, or triples) one answer may have."),
    "access_log": ("KG_ACCESS_LOG", "Where `kg serve` logs each request: `-` for standard output, "
                   "or a file; unset, requests are not logged (each line costs about 0.2 ms)."),
    "service_allow": ("KG_SERVICE_ALLOW", "Endpoints a query may reach with SERVICE, separated "
                      "by spaces; empty, SERVICE is refused. Default: Wikidata's and DBpedia's."),
    "backend": ("KG_BACKEND", "Query URL of a SPARQL 1.1 server to serve from instead of the "
                "embedded store (e.g. Oxigraph server's http://host:7878/query); unset, the "
                "embedded store."),
    "backend_update": ("KG_BACKEND_UPDATE", "Its SPARQL Update URL (default: the query URL, "
                       "with a final /query replaced by /update)."),
    "backend_store": ("KG_BACKEND_STORE", "Its Graph Store Protocol URL (default: the query "
                      "URL, with a final /query replaced by /store)."),
    "admin_token": ("KG_ADMIN_TOKEN", "Bearer token that enables SPARQL Update and Graph Store "
                    "writes; unset, the endpoint is read-only. Never logged."),
}


def _packaged_corpus() -> Path:
    return Path(__file__).parent / "corpus"


def _packaged_queries() -> Path:
    # The repository's queries/ folder, shipped as the package kg.queries (see pyproject).
    return Path(str(resources.files("kg.queries")))


@dataclass(frozen=True)
class Settings:
    """Everything configurable about crisiskg."""

    base_iri: str = DEFAULT_BASE_IRI
    store_dir: Path = Path("var/store")
    corpus_dir: Path = field(default_factory=_packaged_corpus)
    queries_dir: Path = field(default_factory=_packaged_queries)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    query_timeout: float = 30.0
    row_cap: int = 100_000
    access_log: str | None = None
    service_allow: tuple[str, ...] = ("https://query.wikidata.org/sparql",
                                      "https://dbpedia.org/sparql")
    backend: str | None = None
    backend_update: str | None = None
    backend_store: str | None = None
    admin_token: str | None = field(default=None, repr=False)  # a secret: kept out of reprs

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Defaults, then KG_* variables, then explicit overrides (None means: not given)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for setting in fields(cls):
            variable = SETTINGS_HELP[setting.name][0]
            if variable in environ:
                values[setting.name] = environ[variable]
        values.update({k: v for k, v in overrides.items() if v is not None})
        coerced: dict[str, Any] = {k: _coerce(cls, k, v) for k, v in values.items()}
        return replace(cls(), **coerced)


_ABSOLUTE_IRI = re.compile(r"https?://[^\s<>\"{}|\\^`]+")


def _coerce(cls: type[Settings], name: str, value: object) -> object:
    default = getattr(cls(), name)
    variable = SETTINGS_HELP[name][0]
    if isinstance(default, Path):
        return Path(str(value))
    if isinstance(default, float):
        try:
            seconds = float(str(value))
        except ValueError:
            raise SettingsError(f"{variable} must be a number of seconds, not {value!r}") from None
        if not seconds > 0:
            raise SettingsError(f"{variable} must be more than 0, not {seconds:g}")
        return seconds
    if isinstance(default, int):
        try:
            number = int(str(value))
        except ValueError:
            raise SettingsError(f"{variable} must be a whole number, not {value!r}") from None
        if number < 1 or (name == "port" and number > 65535):
            raise SettingsError(f"{variable} is out of range: {number}")
        return number
    if isinstance(default, tuple):
        endpoints = tuple(value) if isinstance(value, tuple) else tuple(str(value).split())
        for endpoint in endpoints:
            if not _ABSOLUTE_IRI.fullmatch(endpoint):
                raise SettingsError(f"{variable} lists endpoints as absolute http(s) IRIs "
                                    f"separated by spaces; {endpoint!r} is not one")
        return endpoints
    text = str(value)
    if name == "admin_token" and len(text) < 16:
        raise SettingsError(f"{variable} must be at least 16 characters (a secret, not a word)")
    if name.startswith("backend"):
        if not _ABSOLUTE_IRI.fullmatch(text):
            raise SettingsError(f"{variable} must be an absolute http(s) URL such as "
                                f"http://127.0.0.1:7878/query, not {text!r}")
        return text
    if name == "base_iri":
        if not _ABSOLUTE_IRI.fullmatch(text):
            raise SettingsError(f"{variable} must be an absolute http(s) IRI such as "
                                f"https://w3id.org/crisiskg/, not {text!r}")
        if not text.endswith(("/", "#")):
            text += "/"
    return text
