"""Dumps over HTTP: `/export` lists them, `/export/crisiskg.<ext>[.gz]` serves them, streamed.

A dump is made by `kg export` (kg.export) on first request for the build being served and kept
on disk beside the store, one folder per build, so every worker and every later request sends
the same file. `/context.jsonld` is the JSON-LD context the JSON-LD dump is compacted with.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, send_file

from kg.errors import NotFound
from kg.export import EXPORT_FORMATS, export, jsonld_context, write_export
from kg.namespaces import Namespaces
from kg.settings import Settings
from server.store import get_build, get_store

__all__ = ["blueprint", "dump_path"]

blueprint = Blueprint("exports", __name__)

#: Dump file name -> export format, by pyoxigraph's file extension of each.
DUMPS = {f"crisiskg.{f.rdf_format.file_extension}": name for name, f in EXPORT_FORMATS.items()}
_GZIP = "application/gzip"


def _namespaces() -> Namespaces:
    settings: Settings = current_app.config["KG_SETTINGS"]
    return Namespaces(settings.base_iri)


def dump_path(file_name: str) -> Path:
    """The dump of the build being served, made now if it is not on disk yet."""
    settings: Settings = current_app.config["KG_SETTINGS"]
    build = get_build()
    folder = settings.store_dir / "exports" / build.manifest.build_id
    path = folder / file_name
    if path.exists():
        return path
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.parent.iterdir():
            # Dumps of builds the store has pruned: no worker can be serving those any more.
            if not (settings.store_dir / "builds" / old.name).exists():
                shutil.rmtree(old, ignore_errors=True)
    exported = export(get_store(), _namespaces(), DUMPS[file_name.removesuffix(".gz")])
    write_export(exported, path)  # a worker making it at the same time writes the same bytes
    return path


@blueprint.route("/export")
def listing() -> Response:
    """The dumps, with their formats, media types and sizes."""
    dumps = []
    for file_name, fmt in DUMPS.items():
        plain, compressed = dump_path(file_name), dump_path(file_name + ".gz")
        dumps.append({"name": file_name, "format": fmt,
                      "media_type": EXPORT_FORMATS[fmt].rdf_format.media_type,
                      "size": plain.stat().st_size, "gzip_size": compressed.stat().st_size})
    return Response(render_template("export.html", dumps=dumps,
                                    version=get_build().manifest.dataset_version),
                    mimetype="text/html")


@blueprint.route("/export/<file_name>")
def dump(file_name: str) -> Response:
    """One dump, as an attachment."""
    if file_name.removesuffix(".gz") not in DUMPS:
        raise NotFound(f"no dump {file_name!r}; /export lists them: "
                       + ", ".join(sorted(DUMPS)) + " (each also as .gz)")
    fmt = EXPORT_FORMATS[DUMPS[file_name.removesuffix(".gz")]]
    media_type = _GZIP if file_name.endswith(".gz") else fmt.rdf_format.media_type
    return send_file(dump_path(file_name), mimetype=media_type, as_attachment=True,
                     download_name=file_name, etag=True, conditional=True)


@blueprint.route("/context.jsonld")
def context() -> Response:
    """The JSON-LD context of the JSON-LD dump: the project's prefixes."""
    response = jsonify(jsonld_context(_namespaces()))
    response.mimetype = "application/ld+json"
    return response
