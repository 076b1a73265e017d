"""The days a MedicationRequest covers (the eCQMs' medicationRequestPeriod), and that the fact's end follows it."""

from __future__ import annotations

from datetime import datetime, timezone

from caregaps.ingest.facts import extract
from caregaps.ingest.medperiod import days_supplied


def request(**dispense) -> dict:
    body = {"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p"}, "authoredOn": "2024-12-15",
            "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                      "code": "997224"}]}}
    if dispense:
        body["dispenseRequest"] = dispense
    return body


def test_days_supplied_prefers_the_expected_supply_and_counts_refills():
    assert days_supplied(request(expectedSupplyDuration={"value": 90, "unit": "days"})) == 90
    assert days_supplied(request(expectedSupplyDuration={"value": 4, "code": "wk"}, numberOfRepeatsAllowed=2)) == 84
    by_quantity = request(quantity={"value": 60})
    by_quantity["dosageInstruction"] = [{"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                                         "doseAndRate": [{"doseQuantity": {"value": 1}}]}]
    assert days_supplied(by_quantity) == 30
    no_frequency = request(quantity={"value": 60})
    no_frequency["dosageInstruction"] = [{"doseAndRate": [{"doseQuantity": {"value": 1}}]}]
    assert days_supplied(no_frequency) is None  # as in the CQL: no doses per day, no period


def test_a_90_day_supply_authored_in_december_reaches_into_march():
    fact = extract(request(expectedSupplyDuration={"value": 90, "unit": "days"}), "MedicationRequest",
                   timezone.utc).facts[0]
    assert fact.start == datetime(2024, 12, 15)
    assert fact.end == datetime(2025, 3, 14, 23, 59, 59, 999999)  # both ends counted: 90 days
    unknown = extract(request(), "MedicationRequest", timezone.utc).facts[0]
    assert unknown.end == datetime(2024, 12, 15, 23, 59, 59, 999999)  # just the day it was written
