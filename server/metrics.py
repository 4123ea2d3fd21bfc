"""Prometheus metrics: queries served, errors, timeouts, cache hits (GET /metrics).

Under gunicorn each worker counts in files in PROMETHEUS_MULTIPROC_DIR (set by `kg serve`), and
/metrics adds them up, so the figures cover every worker.
"""

from __future__ import annotations

import os

from flask import Blueprint, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
    multiprocess,
)

__all__ = ["ANSWERS", "blueprint"]

#: Answers by outcome: ok, cache_hit, not_modified, error (4xx), timeout (503).
ANSWERS = Counter("kg_sparql_answers", "SPARQL queries answered, by outcome", ["outcome"])

blueprint = Blueprint("metrics", __name__)


@blueprint.get("/metrics")
def metrics() -> Response:
    """The metrics in Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY

        body = generate_latest(REGISTRY)
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0])
