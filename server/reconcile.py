"""The W3C Entity Reconciliation API (the protocol OpenRefine speaks) over the graph's entities.

`/reconcile` without queries is the service manifest; with `queries` (a JSON object, sent as a
form field or in the query string) it answers each query with ranked candidates. Previews are
at `/reconcile/preview?id=`, and suggest services for entities, types and properties under
`/reconcile/suggest/`. A query's properties (`[{"pid": "locatedIn", "v": "Iraq"}]`, the
columns OpenRefine's "also use relevant details" sends) refine the scores. Entity ids are the
ids of the annotations (`qassem-soleimani`); types and properties are ontology terms by local
name (`Person`, `locatedIn`).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from kg.errors import NotFound, QueryError
from kg.namespaces import Namespaces
from kg.reconciliation import EntityIndex, PropertyCondition
from kg.settings import Settings
from server.store import get_prefixes, per_build

__all__ = ["blueprint"]

blueprint = Blueprint("reconcile", __name__, url_prefix="/reconcile")

#: The most candidates a query may ask for.
MAX_LIMIT = 100


def _namespaces() -> Namespaces:
    settings: Settings = current_app.config["KG_SETTINGS"]
    return Namespaces(settings.base_iri)


def _index() -> EntityIndex:
    """The entity index of the build being served."""
    return per_build("reconcile", lambda store: EntityIndex(store, get_prefixes()))


def _local(iri: str, prefix: str) -> str:
    return iri[len(prefix):] if iri.startswith(prefix) else iri


@blueprint.route("", methods=["GET", "POST"])
def service() -> Response:
    """The manifest, or the answers to a batch of queries."""
    raw = request.values.get("queries")
    if raw is None:
        return _manifest()
    try:
        queries = json.loads(raw)
    except json.JSONDecodeError as error:
        raise QueryError(f"queries is not JSON: {error}; send an object such as "
                         '{"q0": {"query": "Soleimani"}}') from None
    if not isinstance(queries, dict):
        raise QueryError('queries must be a JSON object of named queries: {"q0": {"query": '
                         '"Soleimani"}}')
    return jsonify({key: {"result": _answer(key, query)} for key, query in queries.items()})


def _answer(key: str, query: Any) -> list[dict[str, Any]]:
    ns, index = _namespaces(), _index()
    if not isinstance(query, dict) or not isinstance(query.get("query"), str):
        raise QueryError(f"query {key!r} needs a `query` string: {{\"query\": \"a name\"}}")
    limit = query.get("limit", 10)
    if not isinstance(limit, int) or not 0 < limit <= MAX_LIMIT:
        raise QueryError(f"query {key!r}: limit must be an integer from 1 to {MAX_LIMIT}")
    wanted = query.get("type") or []
    wanted = [wanted] if isinstance(wanted, str) else wanted
    types = []
    for name in wanted:
        iri = name if str(name).startswith(ns.term_prefix) else ns.term(str(name))
        if iri not in index.class_labels:
            raise QueryError(f"query {key!r}: {name!r} is not a class of the ontology; the "
                             "manifest's suggest service for types lists them")
        types.append(iri)
    conditions = _conditions(key, query.get("properties") or [], ns, index)
    return [{"id": _local(c.iri, ns.resource_prefix), "name": c.name, "score": c.score,
             "match": c.match, "description": f"matched “{c.matched_name}”",
             "type": [{"id": _local(t, ns.term_prefix), "name": index.class_labels.get(t, t)}
                      for t in c.types if t in index.class_labels],
             "features": [{"id": _local(f, ns.term_prefix), "value": v} for f, v in c.features]}
            for c in index.search(query["query"], tuple(types), limit, conditions)]


def _conditions(key: str, properties: Any, ns: Namespaces, index: EntityIndex
                ) -> tuple[PropertyCondition, ...]:
    """The query's `properties` ([{pid, v}]) as conditions on the graph's values."""
    example = '[{"pid": "locatedIn", "v": "Iraq"}]'
    if not isinstance(properties, list):
        raise QueryError(f"query {key!r}: properties must be a list such as {example}")
    conditions = []
    for item in properties:
        if not isinstance(item, dict) or not isinstance(item.get("pid"), str) or "v" not in item:
            raise QueryError(f"query {key!r}: each property needs `pid` and `v`: {example}")
        pid = item["pid"]
        iri = pid if pid.startswith(ns.term_prefix) else ns.term(pid)
        if iri not in index.property_labels:
            raise QueryError(f"query {key!r}: {pid!r} is not a property of the ontology; the "
                             "manifest's suggest service for properties lists them")
        iris, texts = [], []
        for value in item["v"] if isinstance(item["v"], list) else [item["v"]]:
            if isinstance(value, dict) and isinstance(value.get("id"), str):
                # A cell reconciled already: an entity id, and the name OpenRefine shows with it.
                entity = ns.resource(value["id"])
                if entity in index.entities:
                    iris.append(entity)
                elif isinstance(value.get("name"), str):
                    texts.append(value["name"])
                else:
                    raise QueryError(f"query {key!r}: no entity has the id {value['id']!r} "
                                     f"given for {pid!r}; give its name instead")
            elif isinstance(value, bool):
                texts.append(str(value).lower())
            elif isinstance(value, int | float):
                texts.append(str(int(value)) if float(value).is_integer() else repr(value))
            elif isinstance(value, str):
                texts.append(value)
            else:
                raise QueryError(f"query {key!r}: the value of {pid!r} must be a string, a "
                                 'number, a boolean, {"id": ...} or a list of these')
        texts = [t for t in texts if t.strip()]
        if not iris and not texts:
            continue  # an empty cell says nothing either way
        conditions.append(PropertyCondition(iri, tuple(iris), tuple(texts)))
    return tuple(conditions)


def _manifest() -> Response:
    ns = _namespaces()
    root = request.host_url.rstrip("/")
    return jsonify({
        "versions": ["0.2"],
        "name": "crisiskg entities",
        "identifierSpace": ns.resource_prefix,
        "schemaSpace": ns.term_prefix,
        "defaultTypes": [{"id": "Actor", "name": "Actor"}, {"id": "Location", "name": "Location"},
                         {"id": "Event", "name": "Event"}],
        "view": {"url": root + url_for("resources.resource", identifier="") + "{{id}}"},
        "preview": {"url": root + url_for("reconcile.preview") + "?id={{id}}",
                    "width": 400, "height": 120},
        "suggest": {
            "entity": {"service_url": root + url_for("reconcile.service"),
                       "service_path": "/suggest/entity"},
            "type": {"service_url": root + url_for("reconcile.service"),
                     "service_path": "/suggest/type"},
            "property": {"service_url": root + url_for("reconcile.service"),
                         "service_path": "/suggest/property"},
        },
    })


@blueprint.route("/preview")
def preview() -> Response:
    """A small page about an entity, for OpenRefine's preview pop-up."""
    ns, index = _namespaces(), _index()
    identifier = request.args.get("id", "")
    entity = index.entities.get(ns.resource(identifier))
    if entity is None:
        raise NotFound(f"no entity has the id {identifier!r}")
    types = sorted(index.class_labels.get(t, t) for t in entity.types
                   if t in index.class_labels)
    return Response(render_template("reconcile_preview.html", entity=entity, types=types,
                                    identifier=identifier), mimetype="text/html")


@blueprint.route("/suggest/entity")
def suggest_entity() -> Response:
    """Entities whose name starts with `prefix`."""
    ns, index = _namespaces(), _index()
    prefix = request.args.get("prefix", "")
    return jsonify({"result": [{"id": _local(iri, ns.resource_prefix), "name": label}
                               for iri, label in index.suggest(prefix)]})


@blueprint.route("/suggest/type")
def suggest_type() -> Response:
    """Ontology classes whose name starts with `prefix`."""
    return _suggest_terms(_index().class_labels)


@blueprint.route("/suggest/property")
def suggest_property() -> Response:
    """Ontology properties whose name starts with `prefix`, for matching on other columns."""
    return _suggest_terms(_index().property_labels)


def _suggest_terms(labels: dict[str, str]) -> Response:
    ns = _namespaces()
    prefix = request.args.get("prefix", "").casefold()
    return jsonify({"result": [
        {"id": _local(iri, ns.term_prefix), "name": label}
        for iri, label in sorted(labels.items(), key=lambda item: item[1])
        if label.casefold().startswith(prefix) or _local(iri, ns.term_prefix).casefold()
        .startswith(prefix)]})
