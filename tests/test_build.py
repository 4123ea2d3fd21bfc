"""The build writes a new store beside the old one and switches only on success."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from kg import store as store_module
from kg.build import build
from kg.errors import AnnotationError, StoreError
from kg.settings import Settings
from kg.store import ReadStore, current_build

BadCorpus = Callable[[str], Settings]


def _labels(settings: Settings) -> set[str]:
    store = ReadStore.open_current(settings.store_dir)
    return {row["l"].value for row in store.query(
        "SELECT ?l WHERE { ?x a <https://w3id.org/crisiskg/ontology#Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l }")}


def test_build_creates_a_current_store(mini_settings: Settings) -> None:
    assert current_build(mini_settings.store_dir) is None
    report = build(mini_settings)
    assert current_build(mini_settings.store_dir) == report.store
    assert _labels(mini_settings) == {"Ann Example"}
    assert report.dataset_version == ReadStore.open_current(
        mini_settings.store_dir).manifest.dataset_version


def test_failed_build_leaves_the_served_store_untouched(mini_settings: Settings,
                                                        bad_corpus: BadCorpus) -> None:
    build(mini_settings)
    before = current_build(mini_settings.store_dir)
    served = ReadStore.open_current(mini_settings.store_dir)  # a reader holding the store open
    broken = replace(bad_corpus("bad-offset.yaml"), store_dir=mini_settings.store_dir)
    with pytest.raises(AnnotationError):
        build(broken)
    assert current_build(mini_settings.store_dir) == before
    assert _labels(mini_settings) == {"Ann Example"}
    assert len(served) > 0


@pytest.mark.parametrize("failure", ["load", "switch"])
def test_store_failure_leaves_the_old_store_and_no_debris(
        mini_settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    """A build that dies while loading (disk full) or while switching switches nothing."""
    build(mini_settings)
    before = current_build(mini_settings.store_dir)

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    if failure == "load":
        monkeypatch.setattr(store_module.ox.Store, "bulk_extend", disk_full)
    else:
        monkeypatch.setattr(store_module, "_switch", disk_full)
    with pytest.raises(StoreError, match="No space left on device"):
        build(mini_settings)
    assert current_build(mini_settings.store_dir) == before
    builds = sorted(p.name for p in (mini_settings.store_dir / "builds").iterdir())
    assert builds == [before.name] if before else False
    assert _labels(mini_settings) == {"Ann Example"}


def test_an_interrupted_build_leaves_no_debris(mini_settings: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    build(mini_settings)
    before = current_build(mini_settings.store_dir)

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module.ox.Store, "optimize", interrupt)
    with pytest.raises(KeyboardInterrupt):
        build(mini_settings)
    assert before is not None
    assert sorted(p.name for p in (mini_settings.store_dir / "builds").iterdir()) == [before.name]


def test_one_build_at_a_time(mini_settings: Settings) -> None:
    build(mini_settings)
    with (mini_settings.store_dir / ".build.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="another build or write is changing"):
            build(mini_settings)


def test_a_build_a_reader_holds_is_not_pruned(mini_settings: Settings) -> None:
    first = build(mini_settings).store
    assert first is not None
    with ReadStore(first):
        for _ in range(3):
            build(mini_settings)
        assert first.exists()
    build(mini_settings)
    assert not first.exists()


def test_rebuild_switches_and_keeps_the_previous_build(mini_settings: Settings) -> None:
    first = build(mini_settings).store
    doc = mini_settings.corpus_dir / "documents" / "mini.yaml"
    doc.write_text(doc.read_text().replace("label: Ann Example", "label: General Ann Example"))
    second = build(mini_settings).store
    assert first != second and current_build(mini_settings.store_dir) == second
    assert first is not None and first.exists()  # a server may still be reading it
    assert _labels(mini_settings) == {"General Ann Example"}
    third = build(mini_settings).store
    assert not first.exists() and third is not None and third.exists()


def test_missing_store_explains_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no store has been built in .*; run `kg build` first"):
        ReadStore.open_current(tmp_path)


def test_partial_leftovers_of_a_killed_build_are_ignored(mini_settings: Settings) -> None:
    build(mini_settings)
    before = current_build(mini_settings.store_dir)
    assert before is not None
    leftover = mini_settings.store_dir / "builds" / "killed.partial"
    shutil.copytree(before, leftover)
    assert current_build(mini_settings.store_dir) == before
    assert build(mini_settings).store is not None
    assert not leftover.exists()
