"""The days a MedicationRequest covers, as the eCQMs' `medicationRequestPeriod()` computes them.

Days supplied are `dispenseRequest.expectedSupplyDuration` (in days), else quantity / (dose x doses
per day), times (1 + numberOfRepeatsAllowed); the period runs from the start day for that many
days (both ends counted). Without a supply, `timing.repeat.boundsPeriod.end` ends it. The start is
the request's own start (authoredOn) here; the CQL prefers boundsPeriod.start when present.
"""

from __future__ import annotations

UNIT_DAYS = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30,
             "a": 365, "year": 365, "years": 365}
PER_DAY = {"h": 24, "min": 1440, "s": 86400, "d": 1, "wk": 1 / 7, "mo": 1 / 30, "a": 1 / 365}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def days_supplied(request: dict) -> float | None:
    """Total days the request supplies, or None when it does not say."""
    dispense = request.get("dispenseRequest") if isinstance(request.get("dispenseRequest"), dict) else {}
    refills = _number(dispense.get("numberOfRepeatsAllowed")) or 0
    supply = dispense.get("expectedSupplyDuration")
    if isinstance(supply, dict) and (value := _number(supply.get("value"))) is not None:
        unit = UNIT_DAYS.get(str(supply.get("code") or supply.get("unit") or "").lower())
        if unit:
            return value * unit * (1 + refills)
    quantity = _number((dispense.get("quantity") or {}).get("value")) if isinstance(dispense.get("quantity"), dict) else None
    per_day, dose = _doses_per_day(request), _dose(request)
    if quantity is not None and per_day and dose:
        return quantity / (dose * per_day) * (1 + refills)
    return None


def _dosage(request: dict) -> dict:
    dosages = request.get("dosageInstruction")
    return dosages[0] if isinstance(dosages, list) and len(dosages) == 1 and isinstance(dosages[0], dict) else {}


def _doses_per_day(request: dict) -> float | None:
    repeat = ((_dosage(request).get("timing") or {}).get("repeat") or {})
    frequency = _number(repeat.get("frequencyMax")) or _number(repeat.get("frequency"))
    period, unit = _number(repeat.get("period")), PER_DAY.get(str(repeat.get("periodUnit") or ""))
    if frequency and period and unit:
        return frequency / period * unit
    return None


def _dose(request: dict) -> float | None:
    rates = _dosage(request).get("doseAndRate")
    if not isinstance(rates, list) or len(rates) != 1 or not isinstance(rates[0], dict):
        return None
    rate = rates[0]
    if isinstance(rate.get("doseRange"), dict):
        return _number((rate["doseRange"].get("high") or {}).get("value"))
    return _number((rate.get("doseQuantity") or {}).get("value"))


def supplied_whole_days(request: dict) -> int | None:
    """Whole days the request supplies (at least one), or None when it does not say."""
    days = days_supplied(request)
    return int(days) if days is not None and days >= 1 else None
