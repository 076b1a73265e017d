"""Immunizations (CVX codes): a flu shot most autumns, COVID-19 boosters for some, and now and
then pneumococcal, shingles (recombinant zoster) and Tdap vaccines. Shots fall on an office
visit when there is one in season, otherwise they are given elsewhere (no encounter).
"""

from __future__ import annotations

from datetime import date

from caregaps.synth.chart import Chart
from caregaps.synth.clock import END, clinic_time, random_day
from caregaps.synth.elements import CVX, coding, concept

FLU = (("197", "influenza, high-dose, quadrivalent"),
       ("205", "influenza, seasonal vaccine, quadrivalent, adjuvanted, 0.5mL dose, preservative free"),
       ("135", "Influenza, high dose seasonal, preservative-free"))
COVID = (("213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION"),)
PNEUMOCOCCAL = (("216", "Pneumococcal conjugate PCV20, polysaccharide CRM197 conjugate, adjuvant, preservative free"),
                ("33", "pneumococcal polysaccharide vaccine, 23 valent"))
ZOSTER = (("187", "zoster vaccine recombinant"),)
TDAP = (("115", "tetanus toxoid, reduced diphtheria toxoid, and acellular pertussis vaccine, adsorbed"),)


def add_immunizations(chart: Chart) -> None:
    rng, person = chart.rng, chart.person
    for year in (2024, 2025, 2026):
        if rng.random() < 0.4 + 0.45 * person.adherence:
            _give(chart, FLU, date(year, 9, 10), date(year, 12, 15))
        if rng.random() < 0.2 + 0.3 * person.adherence:
            _give(chart, COVID, date(year, 9, 15), date(year + 1, 1, 31))
    for vaccines, share in ((PNEUMOCOCCAL, 0.15 * (person.age >= 65)), (ZOSTER, 0.12), (TDAP, 0.06)):
        if rng.random() < share:
            _give(chart, vaccines, person.enrolled, person.active_until)


def _give(chart: Chart, vaccines: tuple[tuple[str, str], ...], first: date, last: date) -> None:
    rng = chart.rng
    first, last = max(first, chart.person.enrolled), min(last, chart.person.active_until, END)
    if first > last:
        return
    in_season = [v for v in chart.clinic_visits() if first <= v.day <= last]
    visit = rng.choice(in_season) if in_season and rng.random() < 0.7 else None
    when = visit.start if visit else clinic_time(rng, random_day(rng, first, last))
    code, display = rng.choice(vaccines)
    resource = {"resourceType": "Immunization", "id": chart.new_id(), "status": "completed",
                "vaccineCode": concept(coding(CVX, code, display)), "patient": chart.subject}
    if visit:
        resource["encounter"] = chart.ref("Encounter", visit.id)
    resource["occurrenceDateTime"] = chart.stamp(when)
    resource["primarySource"] = visit is not None
    chart.add(resource)
