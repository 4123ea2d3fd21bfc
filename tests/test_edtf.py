"""Dates as stated: parsing the EDTF subset and combining partial dates honestly."""

from __future__ import annotations

from datetime import date

import pytest

from kg.edtf import EdtfError, combine, parse_edtf


@pytest.mark.parametrize(
    ("text", "precision", "earliest", "latest"),
    [
        ("2020-01-03", "Day", date(2020, 1, 3), date(2020, 1, 3)),
        ("2020-02", "Month", date(2020, 2, 1), date(2020, 2, 29)),
        ("2019", "Year", date(2019, 1, 1), date(2019, 12, 31)),
        ("2019-05/..", "Range", date(2019, 5, 1), None),
        ("../2020-02", "Range", None, date(2020, 2, 29)),
        ("2019-10/2020-02", "Range", date(2019, 10, 1), date(2020, 2, 29)),
        ("XXXX-01-03", "UnknownYear", None, None),
    ],
)
def test_parse_gives_precision_and_bounds(text: str, precision: str, earliest: date | None,
                                          latest: date | None) -> None:
    span = parse_edtf(text)
    assert (span.edtf, span.precision, span.earliest, span.latest) == (text, precision, earliest,
                                                                       latest)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2020-13-03", "is not a real date"),
        ("2019-02-29", "is not a real date"),
        ("XXXX-02-30", "is not a real day of the year"),
        ("January 2020", "is not a supported EDTF date"),
        ("../..", "needs at least one bound"),
        ("2020/2019", "ends before it starts"),
    ],
)
def test_parse_rejects_with_reason(text: str, message: str) -> None:
    with pytest.raises(EdtfError, match=message):
        parse_edtf(text)


def test_day_without_year_and_month_combine_to_a_day() -> None:
    """'on 3 January' (no year) and 'January 2020' say together: 3 January 2020."""
    span = combine([parse_edtf("XXXX-01-03"), parse_edtf("2020-01")])
    assert span is not None
    assert (span.edtf, span.precision, span.earliest, span.latest) == (
        "2020-01-03", "Day", date(2020, 1, 3), date(2020, 1, 3))


def test_combining_narrows_to_a_month() -> None:
    span = combine([parse_edtf("2020"), parse_edtf("2020-02")])
    assert span is not None and (span.edtf, span.precision) == ("2020-02", "Month")


def test_vague_dates_stay_vague() -> None:
    span = combine([parse_edtf("2019-05/.."), parse_edtf("2019")])
    assert span is not None
    assert (span.edtf, span.precision) == ("2019-05-01/2019-12-31", "Range")


def test_day_without_year_alone_has_no_bounds() -> None:
    span = combine([parse_edtf("XXXX-01-03"), parse_edtf("XXXX-01-03")])
    assert span is not None and span.precision == "UnknownYear" and span.earliest is None


@pytest.mark.parametrize("pair", [("2020-01-03", "2020-02"), ("XXXX-01-03", "XXXX-01-04"),
                                  ("XXXX-03-03", "2020-01")])
def test_contradicting_dates_do_not_combine(pair: tuple[str, str]) -> None:
    assert combine([parse_edtf(p) for p in pair]) is None


@pytest.mark.parametrize(("pair", "expected"), [
    (("XXXX-01-03", "2019-05/.."), ("2020-01-03/..", "Range")),
    (("XXXX-01-03", "2019/2021"), ("2019-01-03/2021-01-03", "Range")),
    (("XXXX-02-29", "2019/2021"), ("2020-02-29", "Day")),
    (("XXXX-12-31", "../2020-06"), ("../2019-12-31", "Range")),
])
def test_a_day_without_year_narrows_every_bound(pair: tuple[str, str],
                                                expected: tuple[str, str]) -> None:
    span = combine([parse_edtf(p) for p in pair])
    assert span is not None and (span.edtf, span.precision) == expected


@pytest.mark.parametrize("text", ["٢٠٢٠", "2020\n", " 2020", "2020/2021\n"])
def test_only_ascii_digits_and_nothing_around_them(text: str) -> None:
    with pytest.raises(EdtfError):
        parse_edtf(text)
