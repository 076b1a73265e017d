"""The decision tables of caregaps/engine/gaps.py, row by row, as its docstrings write them.

Each parametrised row below is one line of a docstring table, in the table's own words; a test
reads the docstring and fails when a line is added, changed or dropped without its row here.
A "-" cell means "any value", and the row is checked for every value it stands for.
"""

from __future__ import annotations

import re
from itertools import product

import pytest

from caregaps.engine.codes import GapStatus, Population
from caregaps.engine.gaps import eligible, gap_change, gap_status, performance_rate, proportion_membership

IP, DEN, DEX, DEXC, NUM, NEX = Population

# | in denominator | excluded or excepted | inverse | numerator at end | numerator as of | status |
GAP_STATUS_ROWS = [
    ("no", "-", "-", "-", "-", "not-applicable"),
    ("yes", "yes", "-", "-", "-", "not-applicable"),
    ("yes", "no", "no", "yes", "-", "closed-gap"),
    ("yes", "no", "no", "no", "yes", "prospective-gap"),
    ("yes", "no", "no", "no", "no / None", "open-gap"),
    ("yes", "no", "yes", "yes", "-", "open-gap"),
    ("yes", "no", "yes", "no", "-", "closed-gap"),
]
# | before | now | event |
GAP_CHANGE_ROWS = [
    ("none or not-applicable", "open or prospective", "detected"),
    ("open or prospective", "closed", "closed"),
    ("closed", "open or prospective", "reopened"),
    ("open", "prospective", "became-prospective"),
    ("prospective", "open", "became-open"),
    ("open, prospective or closed", "not-applicable", "not-applicable"),
    ("anything else (incl. same)", "", "none"),
]
# one rule of proportion_membership's list: given the raw criteria that hold, then the final members
MEMBERSHIP_ROWS = [
    ("denominator requires the initial population", {DEN, NUM}, set()),
    ("denominator requires the initial population", {IP, DEN}, {IP, DEN}),
    ("denominator-exclusion requires the denominator", {IP, DEX}, {IP}),
    ("numerator requires the denominator and no exclusion", {IP, DEN, DEX, NUM}, {IP, DEN, DEX}),
    ("numerator requires the denominator and no exclusion", {IP, NUM}, {IP}),
    ("numerator-exclusion requires the numerator", {IP, DEN, NEX}, {IP, DEN}),
    ("numerator-exclusion requires the numerator", {IP, DEN, NUM, NEX}, {IP, DEN, NUM, NEX}),
    ("denominator-exception requires the denominator, no exclusion and not the numerator",
     {IP, DEN, DEXC}, {IP, DEN, DEXC}),
    ("denominator-exception requires the denominator, no exclusion and not the numerator",
     {IP, DEN, DEX, DEXC}, {IP, DEN, DEX}),
    ("denominator-exception requires the denominator, no exclusion and not the numerator",
     {IP, DEN, NUM, DEXC}, {IP, DEN, NUM}),
    ("denominator-exception requires the denominator, no exclusion and not the numerator", {IP, DEXC}, {IP}),
    ("A population the measure does not define is False", {IP, DEN}, {IP, DEN}),
]


def docstring_table(function) -> list[tuple[str, ...]]:
    """The rows of the markdown table in a function's docstring (without header and rule)."""
    lines = [line.strip() for line in function.__doc__.splitlines() if line.strip().startswith("|")]
    return [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in lines[2:]]


def test_the_gap_status_table_in_the_docstring_is_the_table_tested():
    assert docstring_table(gap_status) == GAP_STATUS_ROWS


def test_the_gap_change_table_in_the_docstring_is_the_table_tested():
    assert docstring_table(gap_change) == GAP_CHANGE_ROWS


def test_the_membership_rules_in_the_docstring_are_the_rules_tested():
    lines = [line.strip() for line in proportion_membership.__doc__.splitlines()]
    written = [line.removeprefix("- ").rstrip(";.") for line in lines if line.startswith(("- ", "A population"))]
    assert written == list(dict.fromkeys(rule for rule, _, _ in MEMBERSHIP_ROWS))


def _flags(cell: str, dash: tuple) -> tuple:
    return {"yes": (True,), "no": (False,), "-": dash, "no / None": (False, None)}[cell]


def _memberships(in_denominator: bool, left_out: bool) -> list[dict[str, bool]]:
    """Final memberships with the denominator as given; left out = excluded, or excepted, or both."""
    base = {code: False for code in Population} | {IP: in_denominator, DEN: in_denominator}
    if not left_out:
        return [base]
    return [base | {DEX: True}, base | {DEXC: True}, base | {DEX: True, DEXC: True}]


@pytest.mark.parametrize("row", GAP_STATUS_ROWS, ids=" | ".join)
def test_given_a_row_of_the_gap_status_table_when_decided_then_its_status_follows(row):
    in_den, left_out, inverse, at_end, as_of, status = row
    cases = product(_flags(in_den, (True, False)), _flags(left_out, (True, False)), _flags(inverse, (True, False)),
                    _flags(at_end, (True, False)), _flags(as_of, (True, False, None)))
    for den, out, inv, num, today in cases:
        for membership in _memberships(den, out):
            given = membership | {NUM: num}
            assert gap_status(given, inv, today) == status, (given, inv, today)


def test_a_numerator_exclusion_takes_the_patient_out_of_the_numerator_at_the_end():
    member = {code: False for code in Population} | {IP: True, DEN: True, NUM: True, NEX: True}
    assert gap_status(member, inverse=False, numerator_as_of=None) == GapStatus.OPEN
    assert gap_status(member, inverse=True) == GapStatus.CLOSED


STATUS_WORDS = {"none": None, "not-applicable": GapStatus.NOT_APPLICABLE, "open": GapStatus.OPEN,
                "prospective": GapStatus.PROSPECTIVE, "closed": GapStatus.CLOSED}
BEFORE = [None, *GapStatus]


def _statuses(cell: str) -> list[GapStatus | None]:
    return [STATUS_WORDS[word] for word in re.split(r", | or ", cell)]


def _named_pairs(rows) -> set[tuple]:
    return {(b, n) for before, now, _ in rows for b, n in product(_statuses(before), _statuses(now))}


@pytest.mark.parametrize("row", GAP_CHANGE_ROWS, ids=" | ".join)
def test_given_a_row_of_the_gap_change_table_when_a_run_sees_it_then_it_records_the_event(row):
    before, now, event = row
    if before.startswith("anything else"):  # every pair the rows above do not name, the same status included
        pairs = set(product(BEFORE, GapStatus)) - _named_pairs(GAP_CHANGE_ROWS[:-1])
        assert {(s, s) for s in GapStatus} <= pairs
    else:
        pairs = set(product(_statuses(before), _statuses(now)))
    for previous, current in pairs:
        assert gap_change(previous, current) == (None if event == "none" else event), (previous, current)


def test_the_rows_of_the_gap_change_table_do_not_contradict_each_other():
    named = [set(product(_statuses(b), _statuses(n))) for b, n, _ in GAP_CHANGE_ROWS[:-1]]
    assert sum(map(len, named)) == len(set().union(*named))


@pytest.mark.parametrize("rule, raw, members", MEMBERSHIP_ROWS, ids=lambda v: v if isinstance(v, str) else "")
def test_given_raw_criteria_when_nested_by_a_rule_then_the_final_members_follow(rule, raw, members):
    final = proportion_membership({code: True for code in raw})
    assert final == {code: code in members for code in Population}
    assert all(type(key) is str for key in final)  # plain strings: orjson writes them as keys


@pytest.mark.parametrize("counts, rate", [
    ({DEN: 10, DEX: 2, DEXC: 3, NUM: 4}, 0.8),  # exclusions and exceptions leave the pool
    ({DEN: 3, DEX: 0, DEXC: 0, NUM: 1}, 0.3333),  # to four places
    ({DEN: 2, DEX: 1, DEXC: 1, NUM: 0}, None),  # nobody eligible: no rate, not 0
    ({DEN: 0, DEX: 0, DEXC: 0, NUM: 0}, None),
])
def test_given_population_counts_then_the_performance_rate_is_numerator_over_the_eligible(counts, rate):
    assert performance_rate(counts) == rate
    assert eligible(counts) == counts[DEN] - counts[DEX] - counts[DEXC]
