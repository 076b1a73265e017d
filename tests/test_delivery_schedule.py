"""Delivery schedules (pure): days and a local time in the practice's timezone, daylight-saving
transitions, and missed slots collapsing to one."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from caregaps.delivery.schedule import ScheduleError, format_days, make_schedule, parse_days

CHICAGO = "America/Chicago"


@pytest.mark.parametrize("text, days", [
    ("mon-fri", "mon,tue,wed,thu,fri"), ("weekdays", "mon,tue,wed,thu,fri"), ("daily", "mon,tue,wed,thu,fri,sat,sun"),
    ("mon,wed,fri", "mon,wed,fri"), ("Monday, Thursday", "mon,thu"), ("sat-sun", "sat,sun"),
])
def test_days_are_read_as_names_ranges_and_aliases(text, days):
    assert format_days(parse_days(text)) == days


@pytest.mark.parametrize("days, at, tz, message", [
    ("mon-xyz", "07:00", CHICAGO, "days: 'mon-xyz' is not a day"),
    ("fri-mon", "07:00", CHICAGO, "runs backwards"),
    ("", "07:00", CHICAGO, "at least one day"),
    ("mon", "7am", CHICAGO, "at: '7am' is not a time of day"),
    ("mon", "25:00", CHICAGO, "at: '25:00'"),
    ("mon", "07:00", "Mars/Olympus", "timezone: 'Mars/Olympus'"),
])
def test_bad_schedules_name_the_part_that_is_wrong(days, at, tz, message):
    with pytest.raises(ScheduleError, match=message):
        make_schedule(days, at, tz)


def test_seven_in_chicago_is_noon_utc_in_winter_and_eleven_in_summer():
    schedule = make_schedule("daily", "07:00", CHICAGO)
    assert schedule.slot_on(date(2026, 1, 15)) == datetime(2026, 1, 15, 13, 0)
    assert schedule.slot_on(date(2026, 7, 15)) == datetime(2026, 7, 15, 12, 0)


def test_across_spring_forward_every_day_has_one_slot_at_seven_local():
    # given clocks go forward on Sunday 2026-03-08 in Chicago
    schedule = make_schedule("daily", "07:00", CHICAGO)
    # when we list the slots of that week
    slots = schedule.slots_between(datetime(2026, 3, 6, 0, 0), datetime(2026, 3, 10, 23, 59))
    # then there is one a day, at 13:00 UTC before the change and 12:00 UTC after it
    assert slots == [datetime(2026, 3, 6, 13), datetime(2026, 3, 7, 13), datetime(2026, 3, 8, 12),
                     datetime(2026, 3, 9, 12), datetime(2026, 3, 10, 12)]


def test_across_fall_back_every_day_has_one_slot_at_seven_local():
    schedule = make_schedule("daily", "07:00", CHICAGO)
    slots = schedule.slots_between(datetime(2026, 10, 31, 0, 0), datetime(2026, 11, 2, 23, 59))
    assert slots == [datetime(2026, 10, 31, 12), datetime(2026, 11, 1, 13), datetime(2026, 11, 2, 13)]


def test_a_time_that_does_not_exist_on_spring_forward_day_is_due_once_just_after_the_jump():
    # 02:30 does not happen on 2026-03-08 in Chicago (02:00 -> 03:00): it is due at 03:30 CDT
    schedule = make_schedule("daily", "02:30", CHICAGO)
    slots = schedule.slots_between(datetime(2026, 3, 8, 0, 0), datetime(2026, 3, 8, 23, 59))
    assert slots == [datetime(2026, 3, 8, 8, 30)]  # 03:30 CDT = 08:30 UTC


def test_a_time_that_happens_twice_on_fall_back_day_is_due_once_the_first_time():
    schedule = make_schedule("daily", "01:30", CHICAGO)
    slots = schedule.slots_between(datetime(2026, 11, 1, 0, 0), datetime(2026, 11, 1, 23, 59))
    assert slots == [datetime(2026, 11, 1, 6, 30)]  # 01:30 CDT, not 01:30 CST (07:30 UTC)


def test_after_downtime_only_the_latest_missed_slot_is_due():
    schedule = make_schedule("mon-fri", "07:00", CHICAGO)
    last_sent = datetime(2026, 11, 30, 13, 0)  # Monday's slot
    now = datetime(2026, 12, 4, 15, 0)  # Friday afternoon, after four missed mornings
    assert schedule.latest_due(last_sent, now) == datetime(2026, 12, 4, 13, 0)
    assert schedule.latest_due(datetime(2026, 12, 4, 13, 0), now) is None  # Friday's is the last one
    assert schedule.latest_due(last_sent, datetime(2026, 11, 30, 20, 0)) is None  # nothing since Monday's


def test_weekends_are_skipped_and_the_next_slot_is_monday():
    schedule = make_schedule("weekdays", "07:00", CHICAGO)
    assert schedule.next_after(datetime(2026, 12, 4, 14, 0)) == datetime(2026, 12, 7, 13, 0)
