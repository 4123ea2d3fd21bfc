"""Saved queries: `.rq` files with grlc-compatible `#+` headers and typed parameters.

A saved query is a SPARQL file whose `#+` comment lines form a YAML document (grlc's
decorators: `summary`, `description`, `tags`, `defaults`, `enumerate`, ...), so the file stays
valid SPARQL and grlc can serve the folder as it is. Parameters follow grlc's variable names:
`?_name_type` is required, `?__name_type` optional; the name is letters and digits, the type one
of `iri`, `literal` (or none: a string), `integer`, `number`, `xsd_<datatype>` or a language tag
(`en`). Values are checked against their type and bound with pyoxigraph's `substitutions`
(pre-bound variables, SEP-0007), never pasted into the query text.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from kg.errors import ParameterError, Problem
from kg.namespaces import EXTERNAL_PREFIXES, Namespaces
from kg.sparql import BOOLEAN, GRAPH, SOLUTIONS
from kg.sparql_scan import NOT_SYNTAX

__all__ = ["RESERVED", "Catalog", "Parameter", "SavedQuery", "Substitutions", "load_catalog"]

#: Values of variables, as pyoxigraph's `substitutions` takes them.
Substitutions = dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]

XSD = EXTERNAL_PREFIXES["xsd"]
#: grlc inserts its own xsd prefix unless the query declares exactly this line.
XSD_PREFIX_LINE = f"PREFIX xsd: <{XSD}>"
_VARIABLE = re.compile(r"[?$](?P<optional>__?)(?P<name>[A-Za-z0-9]+)(?:_(?P<type>\w+))?")
_TOKENS = re.compile(NOT_SYNTAX + r"|(?P<form>\b(?:SELECT|CONSTRUCT|ASK|DESCRIBE)\b)",
                     re.IGNORECASE)
_STAR = re.compile(r"\s*(?:(?:DISTINCT|REDUCED)\s+)?\*", re.IGNORECASE)
_LANGUAGE = re.compile(r"[a-z]{2,3}")
#: Names a parameter may not have: crisiskg's own query-string keys (`format`, `version`) and
#: grlc's (`endpoint`, which grlc adds to every operation).
RESERVED = ("format", "version", "endpoint")


def _integer(text: str) -> str:
    return str(int(text.strip()))


def _decimal(text: str) -> str:
    number = decimal.Decimal(text.strip())
    if not number.is_finite():
        raise ValueError(text)
    return str(number)


def _date(text: str) -> str:
    return datetime.date.fromisoformat(text.strip()).isoformat()


def _boolean(text: str) -> str:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ValueError(text)
    return value


def _year(text: str) -> str:
    if not re.fullmatch(r"-?\d{4,}", text.strip()):
        raise ValueError(text)
    return text.strip()


#: For each XSD datatype a parameter may have: how to check (and normalize) a value, what to
#: ask for, and a value of it.
_LEXICAL: dict[str, tuple[Any, str, str]] = {
    "integer": (_integer, "a whole number, such as 3", "3"),
    "decimal": (_decimal, "a number, such as 2.5", "2.5"),
    "date": (_date, "a date as YYYY-MM-DD, such as 2020-01-03", "2020-01-03"),
    "boolean": (_boolean, "true or false", "true"),
    "gYear": (_year, "a year, such as 2020", "2020"),
    "string": (str, "text", "text"),
}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a saved query: the variable it binds and what its values may be."""

    name: str
    variable: str
    #: "iri", "string", a language tag, or an XSD datatype's local name ("date", "integer", ...)
    type: str
    required: bool
    default: str | None = None
    choices: tuple[str, ...] = ()

    @property
    def expects(self) -> str:
        """What a value must look like, in words (for forms, docs and errors)."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type == "iri":
            return "an IRI, such as https://w3id.org/crisiskg/resource/iran, or res:iran"
        if self.type in _LEXICAL:
            return _LEXICAL[self.type][1]
        return f"text (in language {self.type!r})"

    def bind(self, value: str, prefixes: Mapping[str, str]) -> ox.NamedNode | ox.Literal:
        """The RDF term for `value`; ParameterError if it is not a value of this type."""
        if self.choices and value not in self.choices \
                and not (self.type == "iri" and _expand(value.strip(), prefixes) in self.choices):
            raise ParameterError(f"parameter {self.name!r} must be {self.expects}, not {value!r}")
        try:
            if self.type == "iri":
                return ox.NamedNode(_expand(value.strip(), prefixes))
            if self.type in _LEXICAL:
                check = _LEXICAL[self.type][0]
                return ox.Literal(check(value), datatype=ox.NamedNode(XSD + self.type))
            return ox.Literal(value, language=self.type)
        except (ValueError, decimal.InvalidOperation):
            raise ParameterError(
                f"parameter {self.name!r} must be {self.expects}, not {value!r}") from None


def _expand(value: str, prefixes: Mapping[str, str]) -> str:
    """A prefixed name (res:iran) in full; anything else is taken as an IRI (which
    ox.NamedNode checks: a relative one or a stray '>' is refused)."""
    prefix, colon, local = value.partition(":")
    if colon and prefix in prefixes and not local.startswith("//"):
        return prefixes[prefix] + local
    return value


@dataclass(frozen=True)
class SavedQuery:
    """A saved query: its text, what it is about, and its parameters."""

    name: str
    text: str
    summary: str
    description: str
    tags: tuple[str, ...]
    #: SELECT, CONSTRUCT, ASK or DESCRIBE
    form: str
    parameters: tuple[Parameter, ...]
    needs_internet: bool = False
    #: Whether grlc can run it: grlc pastes parameter values in place of their variables,
    #: which breaks a SELECT list that names one (parameters used only in FILTER need that).
    grlc_compatible: bool = True

    @property
    def kind(self) -> str:
        """The kind of result it gives: solutions, a boolean or a graph (kg.sparql)."""
        return {"SELECT": SOLUTIONS, "ASK": BOOLEAN}.get(self.form, GRAPH)

    @property
    def version(self) -> str:
        """A hash of the query's text: permalinks pin it, so an edited query is noticed."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:8]

    def substitutions(self, values: Mapping[str, str],
                      prefixes: Mapping[str, str]) -> Substitutions:
        """Each parameter's term from `values` (or its default); ParameterError if one is
        missing, unknown or not of its type."""
        unknown = sorted(set(values) - {p.name for p in self.parameters})
        if unknown:
            known = ", ".join(p.name for p in self.parameters) or "none"
            raise ParameterError(f"{self.name} has no parameter {unknown[0]!r} "
                                 f"(its parameters: {known})")
        bound: Substitutions = {}
        for parameter in self.parameters:
            value = values.get(parameter.name)
            if value is None or value == "":
                value = parameter.default
            if value is None:
                if parameter.required:
                    raise ParameterError(f"{self.name} needs parameter {parameter.name!r}: "
                                         f"{parameter.expects}")
                continue  # an optional parameter left out stays a variable, as in grlc
            bound[ox.Variable(parameter.variable)] = parameter.bind(value, prefixes)
        return bound


@dataclass(frozen=True)
class Catalog:
    """The saved queries of a folder, by name, and the problems of the files left out."""

    queries: dict[str, SavedQuery]
    problems: tuple[Problem, ...] = ()


def load_catalog(folder: Path, namespaces: Namespaces | None = None) -> Catalog:
    """Every `*.rq` file of `folder` (the top level only, as grlc reads it)."""
    namespaces = namespaces or Namespaces()
    queries: dict[str, SavedQuery] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.rq")):
        try:
            saved = load_query(path, namespaces)
        except _Invalid as error:
            problems.append(Problem(f"{path}:{error.line}", error.what, error.fix))
            continue
        if saved.name in queries:
            problems.append(Problem(f"{path}:1", f"another file already names the query "
                                    f"{saved.name!r} (a name ends at the file name's first dot)",
                                    "rename one of the files"))
            continue
        queries[saved.name] = saved
    return Catalog(queries, tuple(problems))


class _Invalid(Exception):
    def __init__(self, what: str, fix: str = "", line: int = 1) -> None:
        super().__init__(what)
        self.what, self.fix, self.line = what, fix, line


def load_query(path: Path, namespaces: Namespaces) -> SavedQuery:
    """One saved query file; _Invalid with what to fix if it is not a usable saved query."""
    try:
        text = namespaces.rebase(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise _Invalid(f"cannot read the file: {error}", "save it as UTF-8 text") from None
    header = _header(text)
    name = path.name.split(".", 1)[0]  # grlc names an operation by the file name to its first dot
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise _Invalid(f"the name {name!r} cannot be part of a URL path",
                       "use letters, digits, '-' and '_' in the file name")
    summary = header.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise _Invalid("no summary", "add a line '#+ summary: <the question it answers>'")
    form, star, variables = _scan(text)
    parameters = _parameters(variables, header, namespaces.prefixes())
    _check_binding(text, parameters)
    if any(p.type in _LEXICAL and p.type != "string" for p in parameters) \
            and XSD_PREFIX_LINE not in text:
        raise _Invalid("a typed parameter needs the line " + XSD_PREFIX_LINE,
                       "declare xsd exactly so: grlc adds its own declaration otherwise")
    tags = header.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise _Invalid("tags must be a list of words", "write '#+ tags:' then '#+   - events'")
    return SavedQuery(
        name=name, text=text, summary=summary.strip(),
        description=str(header.get("description") or "").strip(), tags=tuple(tags), form=form,
        parameters=parameters, needs_internet="needs-internet" in tags,
        grlc_compatible=not parameters or form != "SELECT" or star)


def _header(text: str) -> dict[str, Any]:
    lines = [line[2:] for line in text.splitlines() if line.startswith("#+")]
    if not lines:
        return {}
    try:
        header = yaml.safe_load("\n".join(line[1:] if line.startswith(" ") else line
                                          for line in lines))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise _Invalid(f"the #+ header is not YAML: {error}",
                       "indent lists under their key by two spaces after '#+ '",
                       line=(mark.line + 1) if mark else 1) from None
    if not isinstance(header, dict):
        raise _Invalid("the #+ header must be 'key: value' lines",
                       "write '#+ summary: ...', one key a line (README, Saved queries)")
    return header


def _scan(text: str) -> tuple[str, bool, list[re.Match[str]]]:
    """The query form, whether it selects `*` (which grlc can serve with parameters), and its
    parameter variables."""
    form = ""
    star = False
    variables: list[re.Match[str]] = []
    for token in _TOKENS.finditer(text):
        if token.group("form"):
            if not form:
                form = token.group("form").upper()
                star = bool(_STAR.match(text, token.end()))
        else:
            match = _VARIABLE.fullmatch(token.group(0))
            if match:
                variables.append(match)
    if not form:
        raise _Invalid("no SELECT, CONSTRUCT, ASK or DESCRIBE", "write one SPARQL query")
    return form, star, variables


def _check_binding(text: str, parameters: tuple[Parameter, ...]) -> None:
    """Parse the query and bind every parameter, on an empty store: a query pyoxigraph cannot
    parse, or whose parameters are not in scope where it binds them, is refused here."""
    samples: Substitutions = {ox.Variable(p.variable): _sample(p) for p in parameters}
    try:
        ox.Store().query(text, substitutions=samples)
    except SyntaxError as error:
        raise _Invalid(f"the query does not parse: {error}", "fix the SPARQL") from None
    except (RuntimeError, ValueError, OSError) as error:
        raise _Invalid(f"its parameters cannot be bound: {error}",
                       "pyoxigraph binds only variables a SELECT returns: with SELECT *, use "
                       "each parameter in a triple pattern of the outer query; else name it "
                       "in the SELECT list") from None


def _sample(parameter: Parameter) -> ox.NamedNode | ox.Literal:
    if parameter.type == "iri":
        return ox.NamedNode("urn:x-sample")
    if parameter.type in _LEXICAL:
        return ox.Literal(_LEXICAL[parameter.type][2],
                          datatype=ox.NamedNode(XSD + parameter.type))
    return ox.Literal("text", language=parameter.type)


def _text(value: Any) -> str | None:
    """A YAML value as the text a researcher wrote: YAML reads `true` as a boolean and
    2020-01-01 as a date."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _parameters(variables: list[re.Match[str]], header: Mapping[str, Any],
                prefixes: Mapping[str, str]) -> tuple[Parameter, ...]:
    defaults = _per_parameter(header.get("defaults"), "defaults")
    choices = _per_parameter(header.get("enumerate"), "enumerate")
    found: dict[str, Parameter] = {}
    for match in variables:
        name, kind = match.group("name"), match.group("type") or "literal"
        parameter = Parameter(
            name=name, variable=match.group(0)[1:], type=_type(name, kind),
            required=match.group("optional") == "_",
            default=_text(defaults.get(name)),
            choices=tuple(_text(c) or "" for c in choices.get(name) or ()))
        if name in RESERVED:
            raise _Invalid(f"a parameter may not be called {name!r}: crisiskg or grlc use it "
                           "in the query string",
                           "rename the variable, e.g. ?_" + name + "Value")
        earlier = found.get(name)
        if earlier is not None and earlier.variable != parameter.variable:
            raise _Invalid(f"parameter {name!r} is both ?{earlier.variable} and "
                           f"?{parameter.variable}", "use one variable for one parameter")
        found[name] = parameter
    for key, given in (("defaults", defaults), ("enumerate", choices)):
        for name in given:
            if name not in found:
                raise _Invalid(f"{key} names {name!r}, which no ?_{name} variable uses",
                               "name a parameter of the query")
    for parameter in found.values():
        if parameter.default is not None and parameter.choices \
                and parameter.default not in parameter.choices:
            raise _Invalid(f"the default of {parameter.name!r} is not one of its values",
                           "make the default one of the enumerated values")
        if parameter.default is not None:
            try:
                parameter.bind(parameter.default, prefixes)
            except ParameterError as error:
                raise _Invalid(f"the default is not a value of its type: {error.message}",
                               "give a default of the parameter's type") from None
    return tuple(found.values())


def _type(name: str, kind: str) -> str:
    if kind == "iri":
        return "iri"
    if kind in ("literal", "string"):
        return "string"
    if kind in ("integer", "number"):
        return "integer" if kind == "integer" else "decimal"
    if kind.startswith("xsd_") and kind[4:] in _LEXICAL:
        return kind[4:]
    if _LANGUAGE.fullmatch(kind):
        return kind
    raise _Invalid(f"parameter {name!r} has the unknown type {kind!r}",
                   "end the variable with _iri, _literal, _integer, _number, "
                   "_xsd_date (or another _xsd_ type), or a language tag such as _en")


def _per_parameter(value: Any, key: str) -> dict[str, Any]:
    """grlc writes defaults and enumerations as a list of one-key mappings; a mapping is
    taken too."""
    if value is None:
        return {}
    items = value if isinstance(value, list) else [value]
    merged: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            raise _Invalid(f"{key} must list 'name: value' entries",
                           f"write '#+ {key}:' then '#+   - actor: ...'")
        merged.update({str(k): v for k, v in item.items()})
    return merged
