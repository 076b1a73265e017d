"""MedicationRequests (RxNorm): the drugs each chronic condition calls for, ordered at a visit
and renewed at later ones, so many patients carry five or more at once.

Antihypertensives come from the PharmacologicTherapyForHypertension value set, antidepressants
from AdultDepressionMedications, dementia drugs from DementiaMedications; statins, diabetes
drugs, antiplatelets, inhalers and acetaminophen use public RxNorm codes. About 8% of hypertensives are
untreated, some drugs are stopped along the way, and hospice stops statins and preventives.
The latest order of a drug still taken is `active`, earlier ones `completed`, and the last
order of a stopped drug (or of a patient who died) `stopped`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from caregaps.synth.chart import Chart, Visit, practitioner_ref
from caregaps.synth.elements import RXNORM, UCUM, coding, concept
from caregaps.synth.people import Person, Problem
from caregaps.synth.valuesets import ValueSets

HTN = "PharmacologicTherapyForHypertension"
DRUGS: dict[str, tuple[str | None, tuple[tuple[str, str | None], ...], str]] = {
    # class: (value set or None for public RxNorm codes, ((code, display), ...), how it is taken)
    "ace_arb": (HTN, (("314076", None), ("314077", None), ("311354", None), ("979492", None), ("979480", None)),
                "daily"),
    "ccb": (HTN, (("197361", None), ("308135", None)), "daily"),
    "thiazide": (HTN, (("310798", None), ("429503", None), ("197499", None)), "daily"),
    "beta": (HTN, (("866514", None), ("866924", None), ("200031", None), ("200032", None)), "twice"),
    "loop": (HTN, (("313988", None), ("310429", None)), "daily"),
    "mra": (HTN, (("313096", None),), "daily"),
    "statin": (None, (("617312", "atorvastatin 10 MG Oral Tablet"), ("617310", "atorvastatin 20 MG Oral Tablet"),
                      ("617311", "atorvastatin 40 MG Oral Tablet"), ("259255", "atorvastatin 80 MG Oral Tablet"),
                      ("859747", "rosuvastatin calcium 10 MG Oral Tablet"),
                      ("859751", "rosuvastatin calcium 20 MG Oral Tablet"),
                      ("312961", "simvastatin 20 MG Oral Tablet"), ("198211", "simvastatin 40 MG Oral Tablet"),
                      ("904475", "pravastatin sodium 40 MG Oral Tablet")), "bedtime"),
    "metformin": (None, (("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),), "twice"),
    "second_agent": (None, (("897122", "3 ML liraglutide 6 MG/ML Pen Injector"),
                            ("1373463", "canagliflozin 100 MG Oral Tablet")), "daily"),
    "insulin": (None, (("106892", "insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML "
                                  "Injectable Suspension [Humulin]"),
                       ("865098", "insulin lispro 100 UNT/ML Injectable Solution [Humalog]")), "injection"),
    "antiplatelet": (None, (("243670", "aspirin 81 MG Oral Tablet"),), "daily"),
    "analgesic": (None, (("313782", "acetaminophen 325 MG Oral Tablet"),), "as-needed"),
    "p2y12": (None, (("309362", "clopidogrel 75 MG Oral Tablet"),), "daily"),
    "antidepressant": ("AdultDepressionMedications", (("312941", None), ("349332", None), ("200371", None),
                                                      ("311725", None), ("596930", None)), "daily"),
    "dementia": ("DementiaMedications", (("997229", None), ("997223", None), ("996561", None)), "daily"),
    "inhaler": (None, (("896001", "120 ACTUAT fluticasone propionate 0.11 MG/ACTUAT Metered Dose Inhaler [Flovent]"),
                       ("966524", "120 ACTUAT budesonide 0.18 MG/ACTUAT Dry Powder Inhaler [Pulmicort]")), "inhaled"),
}
DOSAGE = {
    "daily": {"text": "Take 1 tablet by mouth once daily", "timing": {"repeat": {"frequency": 1, "period": 1,
                                                                                  "periodUnit": "d"}}},
    "twice": {"text": "Take 1 tablet by mouth twice daily", "timing": {"repeat": {"frequency": 2, "period": 1,
                                                                                   "periodUnit": "d"}}},
    "bedtime": {"text": "Take 1 tablet by mouth at bedtime", "timing": {"repeat": {"frequency": 1, "period": 1,
                                                                                    "periodUnit": "d"}}},
    "injection": {"text": "Inject subcutaneously as directed"},
    "as-needed": {"text": "Take 2 tablets by mouth every 6 hours as needed for pain", "asNeededBoolean": True},
    "inhaled": {"text": "Inhale 2 puffs twice daily", "timing": {"repeat": {"frequency": 2, "period": 1,
                                                                             "periodUnit": "d"}}},
}
CATEGORY = [concept(coding("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community",
                           "Community"))]
DISPENSE = {"numberOfRepeatsAllowed": 3,
            "expectedSupplyDuration": {"value": 90, "unit": "days", "system": UCUM, "code": "d"}}
STOPPED_IN_HOSPICE = ("statin", "antiplatelet", "p2y12", "dementia", "second_agent")


@dataclass
class Order:
    drug_class: str
    drug: dict  # medicationCodeableConcept
    reason: Problem
    stop: date | None = None


@lru_cache(maxsize=4)
def _formulary(vs: ValueSets) -> dict[str, list[dict]]:
    out = {}
    for drug_class, (valueset, drugs, _) in DRUGS.items():
        codings = [vs.coding(valueset, code) if valueset else coding(RXNORM, code, display) for code, display in drugs]
        out[drug_class] = [concept(c) for c in codings]
    return out


def plan(chart: Chart) -> list[Order]:
    """The drugs the patient is on for their conditions."""
    person, rng = chart.person, chart.rng
    formulary = _formulary(chart.vs)
    wanted: list[tuple[str, str]] = []  # (drug class, condition kind)
    if person.has("hypertension") and rng.random() < 0.92:
        first = rng.choices(("ace_arb", "ccb"), (60, 40))[0]
        rest = [c for c in ("ace_arb", "ccb", "thiazide", "beta") if c != first]
        rng.shuffle(rest)
        wanted += [(c, "hypertension") for c in [first] + rest[:rng.choices((0, 1, 2), (35, 40, 25))[0]]]
    wanted += _more(rng, person, [c for c, _ in wanted])
    orders = []
    for drug_class, kind in wanted:
        orders.append(Order(drug_class, rng.choice(formulary[drug_class]), person.problems[kind]))
    for order in orders:
        if person.hospice and order.drug_class in STOPPED_IN_HOSPICE:
            order.stop = person.hospice
    return orders


def _more(rng: random.Random, person: Person, have: list[str]) -> list[tuple[str, str]]:
    """Drugs for conditions other than hypertension: (drug class, condition kind)."""
    out: list[tuple[str, str]] = []

    def give(drug_class: str, kind: str, share: float = 1.0) -> None:
        if rng.random() < share:
            out.append((drug_class, kind))

    if person.has("heart_failure"):
        give("beta", "heart_failure", 0.0 if "beta" in have else 1.0)
        give("loop", "heart_failure", 0.8)
        give("mra", "heart_failure", 0.25)
    if person.has("diabetes"):
        severe_ckd = person.has("ckd") and person.problems["ckd"].diagnosis.icd in ("N18.4", "N18.5")
        give("metformin", "diabetes", 0.0 if severe_ckd else 0.8)
        give("second_agent", "diabetes", 0.35)
        give("insulin", "diabetes", 0.18)
    statin_for = next((k for k in ("cad", "diabetes", "hyperlipidemia", "hypertension") if person.has(k)), None)
    if statin_for:
        give("statin", statin_for, {"cad": 0.8, "diabetes": 0.65, "hyperlipidemia": 0.7}.get(statin_for, 0.3))
    if person.has("cad"):
        give("antiplatelet", "cad", 0.7)
        give("p2y12", "cad", 0.15)
    elif person.has("diabetes"):
        give("antiplatelet", "diabetes", 0.3)
    for drug_class, kind, share in (("antidepressant", "depression", 0.7), ("dementia", "dementia", 0.55),
                                    ("inhaler", "copd", 0.75), ("analgesic", "osteoarthritis", 0.6)):
        if person.has(kind):
            give(drug_class, kind, share)
    return out


def add_medications(chart: Chart) -> None:
    rng = chart.rng
    orders = plan(chart)
    renewals = [v for v in chart.visits if v.kind in ("office", "new", "awv", "phone")]
    for order in orders:
        if order.stop is None and rng.random() < 0.08:
            later = [v.day for v in renewals if v.day > order.reason.onset]
            order.stop = rng.choice(later) if later else None
        written = []
        for visit in renewals:
            if visit.day < order.reason.onset or (order.stop and visit.day > order.stop):
                continue
            if not written or rng.random() < 0.7:
                written.append(_request(chart, order, visit))
        _set_statuses(chart, order, written)


def _request(chart: Chart, order: Order, visit: Visit) -> dict:
    return chart.add({
        "resourceType": "MedicationRequest", "id": chart.new_id(), "status": "completed", "intent": "order",
        "category": CATEGORY, "medicationCodeableConcept": order.drug, "subject": chart.subject,
        "encounter": chart.ref("Encounter", visit.id), "authoredOn": chart.stamp(visit.end),
        "requester": practitioner_ref(visit.practitioner or chart.person.gp),
        "reasonReference": [chart.ref("Condition", order.reason.id)],
        "dosageInstruction": [DOSAGE[DRUGS[order.drug_class][2]]], "dispenseRequest": DISPENSE,
    })


def _set_statuses(chart: Chart, order: Order, written: list[dict]) -> None:
    if written:
        ended = order.stop is not None or chart.person.death is not None
        written[-1]["status"] = "stopped" if ended else "active"
