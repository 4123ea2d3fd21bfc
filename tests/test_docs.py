"""The README is a runbook: it documents every setting and the two set-up commands."""

from __future__ import annotations

from pathlib import Path

from kg.settings import SETTINGS_HELP, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")

RUN = ("npm ci --ignore-scripts && python3 -m venv .venv && . .venv/bin/activate && "
       "pip install -e . && kg serve")
TEST = ("(command -v chromedriver >/dev/null || (apt-get update -qq && apt-get install -y -qq "
        "chromium chromium-driver)) && npm ci --ignore-scripts && python3 -m venv .venv && "
        ". .venv/bin/activate && pip install -e '.[test]' && pytest")


def test_readme_documents_every_setting() -> None:
    for variable, _ in SETTINGS_HELP.values():
        assert f"`{variable}`" in README, variable


def test_readme_has_exactly_the_two_setup_commands_and_ci_runs_the_second() -> None:
    assert README.count(RUN) == 1 and README.count(TEST) == 1
    assert TEST in CI


def test_settings_come_from_environment_then_overrides() -> None:
    settings = Settings.from_env({"KG_PORT": "9001", "KG_BASE_IRI": "https://example.org/x"},
                                 port=9002)
    assert settings.port == 9002
    assert settings.base_iri == "https://example.org/x/"


def test_readme_annotation_example_quotes_the_seed_text_exactly() -> None:
    """The README's example is real: every quote in it matches the first seed article."""
    import yaml

    blocks = [b.split("```", 1)[0] for b in README.split("```yaml\n")[1:]]
    block = next(b for b in blocks if b.startswith("document:"))
    example = yaml.safe_load(block)
    text = (Path(__file__).resolve().parent.parent / "kg" / "corpus" / "documents" /
            example["document"]["text"]).read_bytes().decode("utf-8")
    quotes = [example["document"]["title"], *example["mentions"]]
    quotes += [q for c in example["claims"] for q in c["evidence"]]
    for statement in example["statements"]:
        evidence = statement["evidence"]
        quotes += evidence if isinstance(evidence, list) else [evidence]
    assert len(quotes) == 9
    for quote in quotes:
        assert text[quote["start"] : quote["start"] + len(quote["text"])] == quote["text"]


def test_readme_lists_every_exit_code() -> None:
    from kg import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.KGError) and cls is not errors.KGError:
            assert f"| {cls.exit_code} |" in README, name
