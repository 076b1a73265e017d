"""One patient's whole record, generated from the patient's own seeded generator.

The generator is seeded with (seed, practice, patient number), so a patient's record does not
depend on how many other patients are generated, and the same inputs give the same record.
"""

from __future__ import annotations

import random

from caregaps.synth.chart import Chart
from caregaps.synth.conditions import add_encounter_diagnoses, add_problem_list
from caregaps.synth.encounters import add_encounters, schedule
from caregaps.synth.hospice import add_end_of_life_care
from caregaps.synth.immunizations import add_immunizations
from caregaps.synth.labs import add_labs
from caregaps.synth.medications import add_medications
from caregaps.synth.patient import add_patient
from caregaps.synth.people import sample_person
from caregaps.synth.practice import Practice
from caregaps.synth.screening import add_screening
from caregaps.synth.valuesets import ValueSets
from caregaps.synth.vitals import add_vitals


def patient_record(vs: ValueSets, practice: Practice, seed: int, index: int, bundle: bool) -> Chart:
    """The chart of patient number `index` of a practice: Patient first, then Coverage,
    Encounters and everything recorded at or between them."""
    rng = random.Random(f"caregaps-synth/{seed}/{practice.id}/{index}")
    chart = Chart(rng, vs, practice, sample_person(rng, vs, practice, index), bundle)
    chart.visits = schedule(chart)
    add_patient(chart)
    head = len(chart.resources)
    add_problem_list(chart)
    add_encounter_diagnoses(chart)
    add_vitals(chart)
    add_labs(chart)
    add_screening(chart)
    add_immunizations(chart)
    add_medications(chart)
    add_end_of_life_care(chart)
    chart.resources[head:head] = add_encounters(chart)
    return chart
