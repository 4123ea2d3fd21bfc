"""Dumps over HTTP: `/export` lists them, `/export/crisiskg.<ext>[.gz]` serves them, streamed.

A dump is made by `kg export` (kg.export) on first request for the build being served and kept
on disk beside the store, one folder per build, so every worker and every later request sends
the same file. `/context.jsonld` is the JSON-LD context the JSON-LD dump is compacted with.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, send_file

from kg.errors import NotFound, SettingsError
from kg.export import EXPORT_FORMATS, export, gzipped, jsonld_context, write_export
from kg.namespaces import Namespaces
from kg.settings import Settings
from server.store import get_build, get_store

__all__ = ["DUMPS", "blueprint", "dump"]

blueprint = Blueprint("exports", __name__)

#: Dump file name -> export format, by pyoxigraph's file extension of each.
DUMPS = {f"crisiskg.{f.rdf_format.file_extension}": name for name, f in EXPORT_FORMATS.items()}
_GZIP = "application/gzip"


def _namespaces() -> Namespaces:
    settings: Settings = current_app.config["KG_SETTINGS"]
    return Namespaces(settings.base_iri)


def dump(file_name: str) -> Path | bytes:
    """The dump of the build being served: its file on disk, made now (with its .gz twin) if
    it is not there yet; its bytes, if the disk cannot keep it."""
    # In the build's own folder, so they go when it is pruned. Absolute: Flask's send_file
    # would read a relative path from the package's folder.
    folder = get_build().path.absolute() / "exports"
    path = folder / file_name
    if path.exists():
        return path
    fmt = DUMPS[file_name.removesuffix(".gz")]
    # JSON-LD cannot hold RDF 1.2 triple terms (a SPARQL Update may write some): rewritten.
    exported = export(get_store(), _namespaces(), fmt,
                      rdf11=not EXPORT_FORMATS[fmt].triple_terms)
    plain = folder / file_name.removesuffix(".gz")
    try:
        folder.mkdir(exist_ok=True)
        # One export, both files: a worker making them at the same time writes the same bytes.
        write_export(exported, plain)
        write_export(exported, plain.with_name(plain.name + ".gz"))
    except (OSError, SettingsError) as error:
        current_app.logger.warning("dumps are not kept on disk: %s", error)
        return gzipped(exported.data) if file_name.endswith(".gz") else exported.data
    return path


def _size(made: Path | bytes) -> int:
    return made.stat().st_size if isinstance(made, Path) else len(made)


@blueprint.route("/export")
def listing() -> Response:
    """The dumps, with their formats, media types and sizes."""
    dumps = []
    for file_name, fmt in DUMPS.items():
        dumps.append({"name": file_name, "format": fmt,
                      "media_type": EXPORT_FORMATS[fmt].rdf_format.media_type,
                      "size": _size(dump(file_name)), "gzip_size": _size(dump(file_name + ".gz"))})
    return Response(render_template("export.html", dumps=dumps,
                                    version=get_build().manifest.dataset_version),
                    mimetype="text/html")


@blueprint.route("/export/<file_name>")
def download(file_name: str) -> Response:
    """One dump, as an attachment."""
    if file_name.removesuffix(".gz") not in DUMPS:
        raise NotFound(f"no dump {file_name!r}; /export lists them: "
                       + ", ".join(sorted(DUMPS)) + " (each also as .gz)")
    fmt = EXPORT_FORMATS[DUMPS[file_name.removesuffix(".gz")]]
    media_type = _GZIP if file_name.endswith(".gz") else fmt.rdf_format.media_type
    made = dump(file_name)
    return send_file(made if isinstance(made, Path) else io.BytesIO(made), mimetype=media_type,
                     as_attachment=True, download_name=file_name, etag=isinstance(made, Path),
                     conditional=True)


@blueprint.route("/context.jsonld")
def context() -> Response:
    """The JSON-LD context of the JSON-LD dump: the project's prefixes."""
    response = jsonify(jsonld_context(_namespaces()))
    response.mimetype = "application/ld+json"
    return response
