"""Who a patient is: demographics of a Medicare primary-care panel, chronic conditions, how
engaged they are with preventive care, and the course of their last years (joining the panel,
palliative care, hospice, death).

Age mix: ~15% 40-64 (Medicare through disability), ~60% 65-79, ~25% 80+; ~55% women.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from caregaps.synth import identity
from caregaps.synth.clock import END, START, random_day
from caregaps.synth.diseases import PREVALENCE, Diagnosis, age_band, pick
from caregaps.synth.practice import Practice
from caregaps.synth.valuesets import ValueSets

# OMB race categories (codes from the Race value set) and their shares; None = not reported.
RACES = (("2106-3", 0.74), ("2054-5", 0.11), ("2028-9", 0.05), ("1002-5", 0.01), ("2076-8", 0.005),
         ("2131-1", 0.03), (None, 0.055))
HISPANIC = 0.09
SERIOUS = ("heart_failure", "dementia", "copd")


@dataclass
class Problem:
    """A chronic condition on the problem list: its coded diagnosis, onset and Condition id."""

    diagnosis: Diagnosis
    onset: date
    id: str


@dataclass
class Person:
    id: str
    index: int
    female: bool
    birth: date
    age: int  # on END, the extract date
    gp: str  # the Practitioner id of their general practitioner
    race: str | None
    hispanic: bool
    adherence: float  # 0..1, how readily they take up preventive care
    enrolled: date  # first day of their history with the practice
    last_day: date  # END, or the day they died
    death: date | None = None
    hospice: date | None = None
    palliative: date | None = None
    problems: dict[str, Problem] = field(default_factory=dict)

    @property
    def active_until(self) -> date:
        """Last day of ordinary care (hospice admission ends office visits and screening)."""
        return self.hospice or self.last_day

    def age_on(self, day: date) -> int:
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))

    def has(self, kind: str, on: date | None = None) -> bool:
        problem = self.problems.get(kind)
        return problem is not None and (on is None or problem.onset <= on)


def sample_person(rng: random.Random, vs: ValueSets, practice: Practice, index: int) -> Person:
    female = rng.random() < 0.55
    age = _age(rng)
    latest = END.replace(year=END.year - age)
    birth = random_day(rng, latest - timedelta(days=364), latest)
    race = rng.choices([r for r, _ in RACES], [w for _, w in RACES])[0]
    enrolled = START if rng.random() < 0.88 else random_day(rng, START + timedelta(days=30), date(2026, 6, 30))
    person = Person(identity.new_id(rng), index, female, birth, age, rng.choice(practice.practitioners), race,
                    rng.random() < HISPANIC, rng.betavariate(4, 2), enrolled, END)
    _sample_problems(rng, vs, person)
    _sample_course(rng, person)
    return person


def _age(rng: random.Random) -> int:
    band = rng.random()
    if band < 0.15:
        return rng.randint(40, 64)
    if band < 0.75:
        return rng.randint(65, 79)
    return rng.choices((rng.randint(80, 84), rng.randint(85, 89), rng.randint(90, 94), rng.randint(95, 100)),
                       (45, 32, 17, 6))[0]


def _sample_problems(rng: random.Random, vs: ValueSets, person: Person) -> None:
    band = age_band(person.age)
    earliest = person.birth + timedelta(days=365 * 35)
    for kind, shares in PREVALENCE.items():
        if rng.random() >= shares[band]:
            continue
        if rng.random() < 0.12:  # diagnosed during the window
            onset = random_day(rng, max(person.enrolled, START) + timedelta(days=60), END - timedelta(days=45))
        else:
            onset = max(earliest, START - timedelta(days=rng.randint(90, 365 * 15)))
        person.problems[kind] = Problem(pick(rng, vs, kind), onset, identity.new_id(rng))


def _sample_course(rng: random.Random, person: Person) -> None:
    """Palliative care, hospice and death, more likely for the old and the seriously ill."""
    old = person.age >= 80
    serious = any(person.has(kind) for kind in SERIOUS)
    first = person.enrolled + timedelta(days=90)
    if rng.random() < 0.005 + 0.03 * old + 0.02 * serious:
        person.hospice = random_day(rng, max(first, date(2024, 6, 1)), END - timedelta(days=14))
        if rng.random() < 0.65:
            person.death = min(person.hospice + timedelta(days=rng.randint(10, 240)), END - timedelta(days=1))
        if rng.random() < 0.5:
            person.palliative = person.hospice - timedelta(days=rng.randint(20, 120))
    elif rng.random() < 0.008 + 0.02 * old + 0.01 * serious:
        person.death = random_day(rng, max(first, START + timedelta(days=120)), END - timedelta(days=10))
    if person.palliative is None and rng.random() < 0.01 + 0.03 * (old and serious):
        person.palliative = random_day(rng, first, END - timedelta(days=30))
    if person.death:
        person.last_day = person.death
        if person.palliative and person.palliative > person.death:
            person.palliative = None
    if person.palliative and person.palliative < person.enrolled:
        person.palliative = None
