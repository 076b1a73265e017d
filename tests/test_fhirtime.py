"""FHIR times become the UTC interval they cover, in the practice's timezone when they carry none."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from caregaps.ingest.fhirtime import FhirTimeError, parse_date, parse_interval

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize("value, start, end", [
    ("2026", datetime(2026, 1, 1), datetime(2026, 12, 31, 23, 59, 59, 999999)),
    ("2024-02", datetime(2024, 2, 1), datetime(2024, 2, 29, 23, 59, 59, 999999)),
    ("2026-12-31", datetime(2026, 12, 31), datetime(2026, 12, 31, 23, 59, 59, 999999)),
    ("2026-12-31T23:59:59-05:00", datetime(2027, 1, 1, 4, 59, 59), datetime(2027, 1, 1, 4, 59, 59)),
    ("2026-03-02T10:00:00.250Z", datetime(2026, 3, 2, 10, 0, 0, 250000), datetime(2026, 3, 2, 10, 0, 0, 250000)),
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
