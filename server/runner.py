"""Running the app: gunicorn for production, Flask's reloader with --dev."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from kg.settings import Settings

__all__ = ["run"]


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self.settings.host}:{self.settings.port}")
        self.cfg.set("workers", self.settings.workers)
        # gunicorn's sync worker, with keep-alive and query deadlines (server.worker): measured
        # faster here than gthread workers. A worker evaluating a query sends gunicorn no
        # heartbeat, so gunicorn's own worker timeout must outlast the query timeout, which
        # decides when a query is stopped (with a 503).
        self.cfg.set("worker_class", "server.worker.KeepAliveWorker")
        self.cfg.set("timeout", int(self.settings.query_timeout) + 30)
        self.cfg.set("accesslog", self.settings.access_log or None)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn 25+ opens a control socket at one path per user (~/.gunicorn), which
            # several `kg serve` on one machine would fight over; nothing here uses it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        # Imported in each worker, not in gunicorn's master, which only supervises.
        from server import create_app

        return create_app({"KG_SETTINGS": self.settings})


def run(settings: Settings, dev: bool = False) -> None:
    """Serve until interrupted."""
    if dev:
        from server import create_app

        create_app({"KG_SETTINGS": settings}).run(host=settings.host, port=settings.port,
                                                  debug=True, use_reloader=True)
        return
    _Gunicorn(settings).run()
