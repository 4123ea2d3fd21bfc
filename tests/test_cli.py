"""The `kg` command as a user runs it: real processes, real exit codes and messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

from kg.errors import AnnotationError, NotFound
from kg.settings import Settings


def _kg(*args: str, settings: Settings, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KG_STORE_DIR": str(settings.store_dir),
           "KG_CORPUS_DIR": str(settings.corpus_dir)}
    return subprocess.run([sys.executable, "-m", "kg", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_validate_prints_a_summary(mini_settings: Settings) -> None:
    result = _kg("validate", settings=mini_settings)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: 1 documents")
    assert "MissileStrike                    1" in result.stdout
    assert "checking OWL consistency with HermiT" in result.stderr


def test_invalid_corpus_exits_2_with_the_problem(bad_corpus: Callable[[str], Settings]) -> None:
    settings = bad_corpus("bad-offset.yaml")
    result = _kg("validate", settings=settings, cwd=str(settings.corpus_dir))
    assert result.returncode == AnnotationError.exit_code == 2
    assert "kg: error: the corpus has 1 problem" in result.stderr
    assert "documents/mini.yaml:6: quote 'General Ann Example' does not match" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_then_stats_and_query(mini_settings: Settings) -> None:
    assert _kg("build", settings=mini_settings).returncode == 0
    stats = _kg("stats", settings=mini_settings)
    assert "evidence: 8/8 entities, events and claims, 10/10 statements" in stats.stdout
    table = _kg("query", "SELECT ?who WHERE { res:camp-north-strike ckg:orderedBy ?who }",
                settings=mini_settings)
    assert table.stdout.splitlines() == ["who", "---------------", "res:ann-example", "(1 row)"]
    as_json = _kg("query", "--format", "json", "SELECT ?who WHERE { res:camp-north-strike "
                  "ckg:orderedBy ?who }", settings=mini_settings)
    bindings = json.loads(as_json.stdout)["results"]["bindings"]
    assert bindings == [{"who": {"type": "uri",
                                 "value": "https://w3id.org/crisiskg/resource/ann-example"}}]
    as_csv = _kg("query", "--format", "csv", "SELECT ?who WHERE { res:camp-north-strike "
                 "ckg:orderedBy ?who }", settings=mini_settings)
    assert as_csv.stdout.splitlines() == ["who", "https://w3id.org/crisiskg/resource/ann-example"]


def test_bad_query_exits_6_with_the_parser_message(mini_settings: Settings) -> None:
    _kg("build", settings=mini_settings)
    result = _kg("query", "SELECT ?x WHERE {", settings=mini_settings)
    assert result.returncode == 6
    assert result.stderr.startswith("kg: error: the query does not parse: error at 1:18")


def test_query_without_a_store_says_to_build(mini_settings: Settings) -> None:
    result = _kg("query", "ASK {}", settings=mini_settings)
    assert result.returncode == 5
    assert "no store has been built" in result.stderr and "run `kg build` first" in result.stderr


def test_locate_prints_offsets(mini_settings: Settings) -> None:
    result = _kg("locate", "mini.txt", "Westland", settings=mini_settings)
    assert [line.split("  line")[0] for line in result.stdout.splitlines()] == [
        "start: 54  end: 62", "start: 182  end: 190"]


def test_a_bad_setting_exits_7_with_what_to_fix(mini_settings: Settings) -> None:
    env_settings = mini_settings
    result = subprocess.run([sys.executable, "-m", "kg", "validate"], capture_output=True,
                            text=True, timeout=60, check=False,
                            env={**os.environ, "KG_PORT": "eighty",
                                 "KG_CORPUS_DIR": str(env_settings.corpus_dir)})
    assert (result.returncode, result.stderr) == (
        7, "kg: error: KG_PORT must be a whole number, not 'eighty'\n")
    result = _kg("--base-iri", "not an iri", "validate", settings=mini_settings)
    assert result.returncode == 7
    assert "KG_BASE_IRI must be an absolute http(s) IRI" in result.stderr


def test_a_query_that_fails_while_running_is_an_error_not_a_traceback(
        mini_settings: Settings) -> None:
    _kg("build", settings=mini_settings)
    result = _kg("query", "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }",
                 settings=mini_settings)
    assert result.returncode == 6
    assert result.stderr.startswith("kg: error: the query failed: ")
    assert "Traceback" not in result.stderr


def test_run_lists_and_runs_saved_queries(seed_built: Settings) -> None:
    listing = _kg("run", settings=seed_built)
    assert listing.returncode == 0, listing.stderr
    assert "actor-involvement  Everything involving an actor  [actor=" in listing.stdout
    result = _kg("run", "actor-involvement", "actor=res:donald-trump", "--format", "csv",
                 settings=seed_built)
    assert result.returncode == 0, result.stderr
    assert "https://w3id.org/crisiskg/resource/killing-of-qassem-soleimani" in result.stdout
    assert "https://w3id.org/crisiskg/ontology#orderedBy" in result.stdout


def test_run_refuses_a_bad_parameter_value_with_what_is_expected(seed_built: Settings) -> None:
    result = _kg("run", "events-between-dates", "from=2020-02-30", settings=seed_built)
    assert result.returncode == 6
    assert ("kg: error: parameter 'from' must be a date as YYYY-MM-DD, such as 2020-01-03, "
            "not '2020-02-30'") in result.stderr
    unknown = _kg("run", "no-such-query", settings=seed_built)
    assert unknown.returncode == NotFound.exit_code and "`kg run` lists them" in unknown.stderr
