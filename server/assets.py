"""The browser libraries crisiskg serves itself (installed from npm at set-up): no CDN.

Researchers run the server offline, so the query editor (YASGUI) comes from `npm ci` in the
project folder and is served at /assets/<name>, from an allow-list only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, send_file

from server.store import get_prefixes

__all__ = ["ASSETS", "NODE_MODULES", "assets_installed", "blueprint"]

blueprint = Blueprint("assets", __name__)

#: Where `npm ci` at the repository root installs the browser libraries.
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"

#: The files served, by name: nothing else under node_modules is reachable.
ASSETS: dict[str, tuple[Path, str]] = {
    "yasgui.min.js": (NODE_MODULES / "@zazuko" / "yasgui" / "build" / "yasgui.min.js",
                      "text/javascript"),
    "yasgui.min.css": (NODE_MODULES / "@zazuko" / "yasgui" / "build" / "yasgui.min.css",
                       "text/css"),
}

#: A day: the files only change when package-lock.json does, and revalidation is cheap.
MAX_AGE = 24 * 60 * 60


def assets_installed() -> bool:
    """Whether every served file is there (`npm ci` has been run)."""
    return all(path.is_file() for path, _ in ASSETS.values())


@blueprint.route("/assets/<name>")
def asset(name: str) -> Response:
    """One allow-listed browser file, with validators so browsers revalidate cheaply."""
    if name not in ASSETS:
        abort(404, description=f"no asset {name!r}: only {', '.join(sorted(ASSETS))} are served")
    path, mimetype = ASSETS[name]
    if not path.is_file():
        abort(404, description=f"{name} is not installed: run `npm ci` in the project folder "
                               f"({NODE_MODULES.parent})")
    return send_file(path, mimetype=mimetype, max_age=MAX_AGE, conditional=True)


@blueprint.app_context_processor
def _editor_context() -> dict[str, Any]:
    """What the editor page needs: whether the assets are there, and the prefixes to show."""
    return {"assets_installed": assets_installed,
            # Pairs, not a mapping: `tojson` sorts keys, and ckg: and res: come first.
            "sparql_prefixes": list(get_prefixes().items())}
