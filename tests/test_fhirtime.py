"""FHIR times become the UTC interval they cover, in the practice's timezone when they carry none."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from datetime import date

from caregaps.ingest.fhirtime import FhirTimeError, Span, parse_date, parse_interval, parse_span

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize("value, start, end", [
    ("2026", datetime(2026, 1, 1), datetime(2026, 12, 31, 23, 59, 59, 999999)),
    ("2024-02", datetime(2024, 2, 1), datetime(2024, 2, 29, 23, 59, 59, 999999)),
    ("2026-12-31", datetime(2026, 12, 31), datetime(2026, 12, 31, 23, 59, 59, 999999)),
    # a time without milliseconds is some instant of its second (CQL keeps milliseconds)
    ("2026-12-31T23:59:59-05:00", datetime(2027, 1, 1, 4, 59, 59), datetime(2027, 1, 1, 4, 59, 59, 999999)),
    ("2026-03-02T10:00:00.250Z", datetime(2026, 3, 2, 10, 0, 0, 250000), datetime(2026, 3, 2, 10, 0, 0, 250000)),
    ("2026-03-02T10:00:00.2509Z", datetime(2026, 3, 2, 10, 0, 0, 250000), datetime(2026, 3, 2, 10, 0, 0, 250000)),
])
def test_given_utc_when_parsed_then_interval_covers_the_precision(value, start, end):
    assert parse_interval(value) == (start, end)


def test_given_a_date_without_offset_when_parsed_in_practice_timezone_then_it_is_the_local_day():
    assert parse_interval("2026-12-31", CHICAGO) == (datetime(2026, 12, 31, 6), datetime(2027, 1, 1, 5, 59, 59, 999999))


def test_given_offset_when_parsed_in_practice_timezone_then_the_offset_wins():
    assert parse_interval("2026-07-01T10:00:00Z", CHICAGO)[0] == datetime(2026, 7, 1, 10)


def test_given_dst_summer_date_when_parsed_then_local_offset_is_cdt():
    assert parse_interval("2026-07-01", CHICAGO)[0] == datetime(2026, 7, 1, 5)


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "March 2", "", 20260302, "2026-03-02T25:00:00Z"])
def test_given_not_a_fhir_time_when_parsed_then_error_names_the_value(value):
    with pytest.raises(FhirTimeError):
        parse_interval(value)


def test_given_partial_birth_date_when_read_then_first_day():
    assert str(parse_date("1950-02")) == "1950-02-01"


@pytest.mark.parametrize("value, days, offset", [
    ("2026-12-31T23:59:59-05:00", (date(2026, 12, 31), date(2026, 12, 31)), -300),  # Jan 1 in UTC
    ("2027-01-01T00:00:00+09:00", (date(2027, 1, 1), date(2027, 1, 1)), 540),       # Dec 31 in UTC
    ("2026-12-31T03:00:00Z", (date(2026, 12, 31), date(2026, 12, 31)), 0),
    ("2026-12", (date(2026, 12, 1), date(2026, 12, 31)), None),
    ("2026-07-01", (date(2026, 7, 1), date(2026, 7, 1)), None),
])
def test_given_a_time_when_parsed_then_it_keeps_the_days_it_was_written_on(value, days, offset):
    span = parse_span(value, CHICAGO)
    assert (span.first_day, span.last_day) == days and span.offset == offset


def test_given_a_date_when_parsed_then_its_start_and_end_may_each_be_any_instant_of_the_day():
    assert parse_span("2026-07-01") == Span(datetime(2026, 7, 1), datetime(2026, 7, 1, 23, 59, 59, 999999),
                                            date(2026, 7, 1), date(2026, 7, 1), None,
                                            start_latest=datetime(2026, 7, 1, 23, 59, 59, 999999),
                                            end_earliest=datetime(2026, 7, 1))
