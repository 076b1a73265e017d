"""Compile measure definitions to set-based SQL (SQLAlchemy Core) over facts.

Each query becomes one INSERT ... SELECT into a temporary events table, tagged with the query's
number; queries that read other queries read that table. Conditions become boolean SQL over the
patient table (`patient_id IN (SELECT ... FROM events WHERE def_id = n)`), so a whole practice is
evaluated by a handful of statements and no Python code visits patients one by one.

Open ends: an event without an end lasts forever (a Period without end, an active Condition
without abatement), one without a start began at the dawn of time; one with neither has no
time and fails every time test. A Condition that is not active and has no abatement has no
interval (QICoreCommon's `prevalenceInterval()` is null), so it fails every time test too.
"""

from __future__ import annotations

import operator
from datetime import date, datetime, timedelta

from sqlalchemy import (BigInteger, Column, Date, DateTime, Float, Integer, MetaData, String, Table, and_, case,
                        exists, false, func, literal, not_, null, or_, select, true, union, union_all)

from caregaps.engine.language import (KINDS, AllOf, Age, AnyOf, CodeRef, Count, Deceased, Exists, Not, Query, Ref,
                                      Sex, ValueTest)
from caregaps.engine.period import Period
from caregaps.engine.references import base_kind
from caregaps.engine import timing
from caregaps.engine.sqlfuncs import shifted, shifted_day
from caregaps.engine.timephrase import Point, TimeTest
from caregaps.ingest.facts import SPECS
from caregaps.models import Fact, FactCode, FactTime, Patient, ResourceReference, ValueSetCode

FACT, CODE, VSC, PATIENT, TIME = (Fact.__table__, FactCode.__table__, ValueSetCode.__table__, Patient.__table__,
                                  FactTime.__table__)
REF = ResourceReference.__table__
EVENTS = Table(
    "cg_events", MetaData(),
    Column("def_id", Integer), Column("patient_id", String(64)), Column("fact_id", BigInteger),
    Column("resource_type", String(64)), Column("resource_id", String(64)), Column("start", DateTime),
    Column("end", DateTime), Column("start_latest", DateTime), Column("end_earliest", DateTime),
    Column("start_day", Date), Column("end_day", Date), Column("start_day_latest", Date),
    Column("end_day_earliest", Date),
    Column("value_num", Float), Column("value_unit", String(64)),
    Column("status", String(32)), Column("kind", String(32)),
    prefixes=["TEMPORARY"],
)
CANDIDATES = Table("cg_candidates", MetaData(), Column("patient_id", String(64), primary_key=True),
                   prefixes=["TEMPORARY"])
COLUMNS = [c.name for c in EVENTS.c]
TIMES = COLUMNS[COLUMNS.index("start"):COLUMNS.index("end_day_earliest") + 1]  # what a fact knows of its times
DAWN, DOOM = datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)
FIRST_DAY, LAST_DAY = date(1, 1, 1), date(9999, 12, 31)
RESOURCE_TYPES = {spec.kind: rtype for rtype, spec in SPECS.items()}
SEX_CODES = {"female": "248152002", "male": "248153007"}  # US Core sex extension (SNOMED CT)
ACTIVE = ("active", "recurrence", "relapse")
UNIT_SYNONYMS = {"mmhg": "mm[hg]", "mm hg": "mm[hg]", "percent": "%"}
COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq}


class Compiler:
    def __init__(self, definitions: dict, populations: dict, period: Period, practice_id: str) -> None:
        self.definitions, self.populations = definitions, populations
        self.period, self.practice_id = period, practice_id
        self.ids: dict[str, int] = {}
        self.inline: set[str] = set()  # queries read only as another's source: never stored
        self.candidates_only = False  # read only the facts of the patients in CANDIDATES

    def def_id(self, name: str) -> int:
        return self.ids.setdefault(name, len(self.ids) + 1)

    # -- queries ---------------------------------------------------------------------------
    def query(self, name: str):
        """The SELECT whose rows (in COLUMNS order) are the events of query `name`."""
        final = self.rows(name).subquery(f"q_{self.def_id(name)}")
        return select(literal(self.def_id(name)).label("def_id"), *[final.c[c] for c in COLUMNS[1:]])

    def rows(self, name: str):
        """The events of query `name` without its number (COLUMNS but def_id)."""
        q: Query = self.definitions[name]
        n = self.def_id(name)
        rows = self._source(q).subquery(f"src_{n}")
        driven = self._code_driven(q, name)
        filters = [self._element(rows, element, refs, name) for element, refs in q.codes.items()
                   if not (driven and element == "code")]
        filters += [not_(self._codes(rows.c.fact_id, element, refs)) for element, refs in q.codes_not.items()]
        if q.profile:
            filters.append(self._profile(rows.c.fact_id, q.profile, q.profile_categories))
        if q.status:
            filters.append(rows.c.status.in_(q.status))
        if q.status_not:
            filters.append(or_(rows.c.status.is_(None), rows.c.status.not_in(q.status_not)))
        filters += [self._time(rows, test) for test in q.time]
        filters += [not_(self._time(rows, test)) for test in q.time_not]
        if q.encounter_codes is not None:
            filters.append(self._encounter(rows, q))
        if q.age is not None:
            filters.append(self._age_at_event(rows, *q.age, q.age_on))
        if q.value is not None:
            filters.append(self.value_test(rows.c, q.value))
        chosen = select(*[rows.c[c] for c in COLUMNS[1:]]).where(*filters)
        if q.on_latest_day:
            chosen = self._latest_day(chosen.subquery(f"day_{n}"))
        if q.component:
            chosen = self._component(chosen.subquery(f"comp_{n}"), q.component)
        if q.pick:
            chosen = self._pick(chosen.subquery(f"pick_{n}"), q)
        return chosen

    def _source(self, q: Query):
        if q.sources:
            # UNION ALL: a fact reached twice counts once everywhere it is read (counts are distinct)
            return union_all(*[self._read(source) for source in q.sources])
        if q.source in KINDS:
            # the times come from the fact, or from the element the query dates it by (none: untimed)
            dated = TIME.alias(f"dated_{self.def_id(q.name)}") if q.dated_by else None
            timed = FACT if dated is None else dated
            columns = [FACT.c.patient_id, FACT.c.id.label("fact_id"), FACT.c.resource_type, FACT.c.resource_id,
                       *[timed.c[c] for c in TIMES], FACT.c.value_num, FACT.c.value_unit, FACT.c.status, FACT.c.kind]
            facts = FACT if dated is None else FACT.outerjoin(dated, and_(
                dated.c.fact_id == FACT.c.id, dated.c.dating == q.dated_by))
            where = [FACT.c.practice_id == self.practice_id, FACT.c.kind == q.source, FACT.c.component.is_(None)]
            if self.candidates_only:
                where.append(FACT.c.patient_id.in_(select(CANDIDATES.c.patient_id)))
            if not self._code_driven(q, q.name):
                return select(*columns).select_from(facts).where(*where)
            ids = self._coded_fact_ids("code", q.codes["code"])
            if not q.source.startswith("medication-"):
                # SQLite plans `id IN (codes joined to the value sets)` from the value sets outwards
                return select(*columns).select_from(facts).where(*where, FACT.c.id.in_(ids))
            # a UNION inside IN is planned as a scan of the practice's facts; join it instead
            ids = union(ids, self._fact_ids_via_medication(q.source, q.codes["code"]))
            matched = select(ids.subquery().c.fact_id.label("id")).distinct().subquery(f"coded_{self.def_id(q.name)}")
            return select(*columns).select_from(matched.join(facts, FACT.c.id == matched.c.id)).where(*where)
        return self._read(q.source)

    def _read(self, name: str):
        """Another query's events: computed inline when it is used only here, else its stored rows."""
        if name in self.inline:
            return self.rows(name)
        return select(*[EVENTS.c[c] for c in COLUMNS[1:]]).where(EVENTS.c.def_id == self.def_id(name))

    def _age_at_event(self, rows, low: int | None, high: int | None, on: str):
        """The patient's age in whole years on the event's (start or end) day, as written, is within [low, high]."""
        day = (func.coalesce(rows.c.end_day, rows.c.start_day) if on == "end"
               else func.coalesce(rows.c.start_day, rows.c.end_day))
        tests = [PATIENT.c.practice_id == self.practice_id, PATIENT.c.resource_id == rows.c.patient_id,
                 PATIENT.c.birth_date.is_not(None)]
        if low is not None:
            tests.append(PATIENT.c.birth_date <= shifted_day(day, years=-low))
        if high is not None:
            tests.append(PATIENT.c.birth_date > shifted_day(day, years=-(high + 1)))
        return exists(select(1).where(*tests))

    def _element(self, rows, element: str, refs: tuple[CodeRef, ...], name: str):
        """The event has a coding of `element` in `refs`; a medication's code may also come
        from the Medication its medicationReference points at."""
        match = self._codes(rows.c.fact_id, element, refs)
        if element != "code" or not base_kind(name, self.definitions, KINDS).startswith("medication-"):
            return match
        ref, med = REF.alias(), FACT.alias()
        via = exists(select(1).select_from(ref.join(med, and_(
            med.c.practice_id == ref.c.practice_id, med.c.resource_type == "Medication",
            med.c.resource_id == ref.c.target_id))).where(
            ref.c.practice_id == self.practice_id, ref.c.source_type == rows.c.resource_type,
            ref.c.source_id == rows.c.resource_id, ref.c.path == "medicationReference",
            self._codes(med.c.id, "code", refs)))
        return or_(match, via)

    def _encounter(self, rows, q: Query):
        """The event's `encounter` reference resolves to an Encounter whose codes match."""
        ref, enc = REF.alias(), FACT.alias()
        tests = [self._codes(enc.c.id, element, refs) for element, refs in q.encounter_codes.items()]
        tests += [not_(self._codes(enc.c.id, element, refs)) for element, refs in q.encounter_codes_not.items()]
        return exists(select(1).select_from(ref.join(enc, and_(
            enc.c.practice_id == ref.c.practice_id, enc.c.resource_type == "Encounter",
            enc.c.resource_id == ref.c.target_id, enc.c.component.is_(None)))).where(
            ref.c.practice_id == self.practice_id, ref.c.source_type == rows.c.resource_type,
            ref.c.source_id == rows.c.resource_id, ref.c.path == "encounter", ref.c.target_type == "Encounter",
            *tests))

    def _component(self, rows, codes: tuple[CodeRef, ...]):
        """Each event with the value of its component coded `codes` (no value when it has none)."""
        part = FACT.alias()
        joined = rows.outerjoin(part, and_(
            part.c.practice_id == self.practice_id, part.c.resource_type == rows.c.resource_type,
            part.c.resource_id == rows.c.resource_id, part.c.component.is_not(None),
            self._codes(part.c.id, "code", codes)))
        columns = [rows.c[c] for c in COLUMNS[1:]]
        columns[COLUMNS.index("value_num") - 1] = part.c.value_num.label("value_num")
        columns[COLUMNS.index("value_unit") - 1] = part.c.value_unit.label("value_unit")
        return select(*columns).select_from(joined)

    def _code_driven(self, q: Query, name: str) -> bool:
        """Read facts through their codes (code -> fact) rather than test each fact of the kind:
        the index on codes makes this proportional to the matches, not to the practice's facts."""
        return q.source in KINDS and "code" in q.codes

    def _fact_ids_via_medication(self, kind: str, refs: tuple[CodeRef, ...]):
        """Ids of medication facts whose medicationReference names a Medication coded in `refs`."""
        ref, med = REF.alias(), FACT.alias()
        rtype = RESOURCE_TYPES[kind]
        return select(FACT.c.id).select_from(ref.join(FACT, and_(
            FACT.c.practice_id == ref.c.practice_id, FACT.c.resource_type == ref.c.source_type,
            FACT.c.resource_id == ref.c.source_id))).where(
            ref.c.practice_id == self.practice_id, ref.c.source_type == rtype, ref.c.path == "medicationReference",
            exists(select(1).where(med.c.practice_id == ref.c.practice_id, med.c.resource_type == "Medication",
                                   med.c.resource_id == ref.c.target_id, self._codes(med.c.id, "code", refs))))

    def _coded_fact_ids(self, element: str, refs: tuple[CodeRef, ...]):
        """Ids of facts with a coding of `element` in `refs` (value sets or single codes)."""
        urls = sorted({r.valueset for r in refs if r.valueset})
        parts = []
        if urls:
            parts.append(select(CODE.c.fact_id).select_from(CODE.join(VSC, and_(
                VSC.c.code == CODE.c.code, VSC.c.system == CODE.c.system))).where(
                VSC.c.value_set.in_(urls), CODE.c.element == element))
        for ref in refs:
            if ref.code:
                parts.append(select(CODE.c.fact_id).where(
                    CODE.c.code == ref.code, CODE.c.element == element,
                    CODE.c.system == ref.system if ref.system else true()))
        return union(*parts) if len(parts) > 1 else parts[0]

    def _profile(self, fact_id, profile: str, categories: tuple[CodeRef, ...]):
        """The Condition is of the QI-Core profile: it declares it in meta.profile (the reference
        engine retrieves by that alone), or it declares neither Condition profile and has one of
        the profile's categories, or none at all (US Core requires one; an export without profile
        or category is read by either profile, not lost)."""
        declared, categorized = CODE.alias(), CODE.alias()
        declares = exists(select(1).where(declared.c.fact_id == fact_id, declared.c.element == "profile"))
        uncategorized = not_(exists(select(1).where(categorized.c.fact_id == fact_id,
                                                    categorized.c.element == "category")))
        of_profile = self._codes(fact_id, "profile", (CodeRef(profile, code=profile),))
        return or_(of_profile, and_(not_(declares), or_(self._codes(fact_id, "category", categories), uncategorized)))

    def _codes(self, fact_id, element: str, refs: tuple[CodeRef, ...]):
        code = CODE.alias()
        urls = sorted({r.valueset for r in refs if r.valueset})
        matches = []
        if urls:
            matches.append(exists(select(1).where(VSC.c.value_set.in_(urls), VSC.c.system == code.c.system,
                                                  VSC.c.code == code.c.code)))
        for ref in refs:
            if ref.code:
                matches.append(and_(code.c.code == ref.code,
                                    code.c.system == ref.system if ref.system else true()))
        return exists(select(1).where(code.c.fact_id == fact_id, code.c.element == element, or_(*matches)))

    def value_test(self, cols, test: ValueTest):
        """`cols` (a column collection with fact_id, value_num, value_unit) passes `test`."""
        has_coded = exists(select(1).where(CODE.c.fact_id == cols.fact_id, CODE.c.element == "value"))
        if test.op == "missing":
            return and_(cols.value_num.is_(None), not_(has_coded))
        if test.op == "present":
            return or_(cols.value_num.is_not(None), has_coded)
        compare = COMPARE[test.op](cols.value_num, test.number)
        if test.unit:
            units = {test.unit.lower(), *[k for k, v in UNIT_SYNONYMS.items() if v == test.unit.lower()]}
            compare = and_(compare, func.lower(func.coalesce(cols.value_unit, "")).in_(sorted(units)))
        return compare

    # -- time ------------------------------------------------------------------------------
    def _ends(self, rows, by_day: bool) -> tuple[timing.Moment, timing.Moment]:
        """The event's start and end as moments (instants known to their precision), or as the
        days written (`by_day`), with open ends: no start began at the dawn of time, no end lasts
        forever. A Condition that is not active and has no abatement has no interval at all (its
        `prevalenceInterval()` is null in CQL), so no time test holds for it."""
        live = or_(rows.c.kind != "condition", rows.c.status.in_(ACTIVE))
        known = or_(live, rows.c.end.is_not(None))

        def bounded(value, default):
            return case((known, func.coalesce(value, default)), else_=null())
        if by_day:  # partial dates are not known to the day; every other time is
            return (timing.Moment(bounded(rows.c.start_day, FIRST_DAY),
                                  bounded(func.coalesce(rows.c.start_day_latest, rows.c.start_day), FIRST_DAY)),
                    timing.Moment(bounded(func.coalesce(rows.c.end_day_earliest, rows.c.end_day), LAST_DAY),
                                  bounded(rows.c.end_day, LAST_DAY)))
        start = timing.Moment(bounded(rows.c.start, DAWN), bounded(func.coalesce(rows.c.start_latest, rows.c.start), DAWN))
        end = timing.Moment(bounded(func.coalesce(rows.c.end_earliest, rows.c.end), DOOM), bounded(rows.c.end, DOOM))
        return start, end

    def _time(self, rows, test: TimeTest):
        others = sorted(test.queries)
        if len(others) > 1:
            raise ValueError(f"{test.phrase!r}: a phrase may relate to one other query")
        other = EVENTS.alias(f"rel_{self.def_id(others[0])}") if others else None
        start, end = self._ends(rows, test.by_day)
        timed = or_(rows.c.start.is_not(None), rows.c.end.is_not(None))
        condition = and_(timed, self._relation(start, end, test, other))
        if other is None:
            return condition
        return exists(select(1).where(other.c.def_id == self.def_id(others[0]),
                                      other.c.patient_id == rows.c.patient_id, condition))

    def _point(self, point: Point, other, by_day: bool) -> timing.Moment:
        """A point of the period (a bound parameter) or of the related event, as an instant or a day."""
        if point.of is None:
            if by_day:
                return timing.exact(literal(self.period.local_point(point).date(), Date))
            return timing.exact(literal(self.period.utc(point), DateTime))
        o_start, o_end = self._ends(other, by_day)
        moment = o_start if point.base == "start" else o_end
        if not point.shifted:
            return moment
        move = shifted_day if by_day else shifted
        return timing.Moment(move(moment.lo, point.years, point.months, point.days),
                             move(moment.hi, point.years, point.months, point.days), moment.exact)

    def _open_end(self, point: Point, other, by_day: bool) -> tuple[timing.Moment, object]:
        """The end b of `[a, b)` and how to compare with it. CQL closes a period's open end at its
        predecessor (b - 1 millisecond, or the day before), so the day 2026-06-30 is not surely in
        [.., 2026-07-01T00:00:00.000): it may be its last millisecond. Another event's end is
        compared as it is, strictly."""
        if point.of is not None:
            return self._point(point, other, by_day), timing.before
        if by_day:
            return timing.exact(literal(self.period.local_point(point).date() - timedelta(days=1), Date)), \
                timing.on_or_before
        last = self.period.utc(point) - timedelta(milliseconds=1)
        return timing.exact(literal(last, DateTime)), timing.on_or_before

    def _relation(self, start: timing.Moment, end: timing.Moment, test: TimeTest, other):
        first = {"start": start, "end": end, "whole": start}[test.anchor]
        last = {"start": start, "end": end, "whole": end}[test.anchor]
        below = timing.on_or_before
        if test.relation in ("during", "overlaps"):
            low, high = self._point(test.low, other, test.by_day), self._point(test.high, other, test.by_day)
            if test.high_open:
                high, below = self._open_end(test.high, other, test.by_day)
            if test.relation == "overlaps":
                return and_(below(start, high), timing.on_or_after(end, low))
            return and_(timing.on_or_after(first, low), below(last, high))
        point = self._point(test.point, other, test.by_day)
        if test.relation == "same day as":
            return timing.same(first, point)
        relate = {"before": (timing.before, last), "on or before": (timing.on_or_before, last),
                  "after": (timing.after, first), "on or after": (timing.on_or_after, first)}[test.relation]
        return relate[0](relate[1], point)

    # -- picks -----------------------------------------------------------------------------
    def _latest_day(self, rows):
        """The events on each patient's most recent day."""
        day = func.coalesce(rows.c.end_day, rows.c.start_day)
        marked = select(rows, day.label("day"),
                        func.max(day).over(partition_by=rows.c.patient_id).label("last_day")).subquery()
        return select(*[marked.c[c] for c in COLUMNS[1:]]).where(marked.c.day == marked.c.last_day)

    def _pick(self, rows, q: Query):
        """One event per patient: the latest, earliest, lowest or highest (no value sorts first)."""
        order = {"latest": [func.coalesce(rows.c.end, rows.c.start).desc()],
                 "earliest": [func.coalesce(rows.c.start, rows.c.end).asc()],
                 "lowest value": [rows.c.value_num.asc().nulls_first()],
                 "highest value": [rows.c.value_num.desc().nulls_first()]}[q.pick]
        rank = func.row_number().over(partition_by=rows.c.patient_id, order_by=order + [rows.c.fact_id])
        ranked = select(rows, rank.label("rank")).subquery()
        return select(*[ranked.c[c] for c in COLUMNS[1:]]).where(ranked.c.rank == 1)

    # -- conditions ------------------------------------------------------------------------
    def condition(self, test):
        """A boolean SQL expression over PATIENT for a condition."""
        if isinstance(test, AllOf):
            return and_(true(), *[self.condition(t) for t in test.items])
        if isinstance(test, AnyOf):
            return or_(false(), *[self.condition(t) for t in test.items])
        if isinstance(test, Not):
            return not_(self.condition(test.item))
        if isinstance(test, Ref):
            target = self.definitions.get(test.name) or self.populations[test.name]
            return self.condition(target.test)
        if isinstance(test, Exists):
            rows = select(EVENTS.c.patient_id).where(EVENTS.c.def_id == self.def_id(test.query))
            if test.value is not None:
                rows = rows.where(self.value_test(EVENTS.c, test.value))
            member = PATIENT.c.resource_id.in_(rows)
            return not_(member) if test.negate else member
        if isinstance(test, Count):
            counted = func.count(func.distinct(func.coalesce(EVENTS.c.end_day, EVENTS.c.start_day)
                                               if test.distinct_days else EVENTS.c.fact_id))
            rows = (select(EVENTS.c.patient_id).where(EVENTS.c.def_id == self.def_id(test.query))
                    .group_by(EVENTS.c.patient_id).having(counted >= test.at_least))
            return PATIENT.c.resource_id.in_(rows)
        if isinstance(test, Age):
            checks = [PATIENT.c.birth_date.is_not(None)]
            if test.low is not None:
                checks.append(PATIENT.c.birth_date <= self.period.born_on_or_before(test.low, test.at))
            if test.high is not None:
                checks.append(PATIENT.c.birth_date > self.period.born_on_or_before(test.high + 1, test.at))
            return and_(*checks)
        if isinstance(test, Deceased):
            # some instant of [deceased_at, deceased_latest], as precisely as it was written
            died = timing.Moment(PATIENT.c.deceased_at, func.coalesce(PATIENT.c.deceased_latest, PATIENT.c.deceased_at))
            return and_(PATIENT.c.deceased_at.is_not(None), self._relation(died, died, test.test, None))
        if isinstance(test, Sex):
            return PATIENT.c.sex == SEX_CODES[test.value]
        raise TypeError(f"not a condition: {test!r}")
