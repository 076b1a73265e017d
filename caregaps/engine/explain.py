"""A patient's result for a measure in plain language, for care managers and `caregaps explain`."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from caregaps.engine.catalog import Measure
from caregaps.engine.codes import GAPS, GapStatus, Population

STATUS_WORDS = {
    GapStatus.OPEN: "OPEN gap",
    GapStatus.CLOSED: "closed (no gap)",
    GapStatus.PROSPECTIVE: "PROSPECTIVE gap: met today, lapses before the period ends unless acted on",
    GapStatus.NOT_APPLICABLE: "not applicable",
}
POPULATION_WORDS = (
    (Population.INITIAL_POPULATION, "in the initial population", "not in the initial population"),
    (Population.DENOMINATOR, "in the denominator", "not in the denominator"),
    (Population.DENOMINATOR_EXCLUSION, "excluded", "not excluded"),
    (Population.DENOMINATOR_EXCEPTION, "an exception", "not an exception"),
    (Population.NUMERATOR, "in the numerator", "not in the numerator"),
)


def local_day(moment: datetime | str | None, tz: tzinfo) -> str:
    """A stored UTC instant as the practice's calendar day."""
    if moment is None:
        return "an unknown date"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=timezone.utc).astimezone(tz).date().isoformat()


def describe_evidence(item: dict, tz: tzinfo) -> str:
    """'Lowest Glycemic Status Reading on Most Recent Day: 9.4 % on 2026-03-02 (Observation/abc)'."""
    value = ""
    if item.get("value") is not None:
        number = item["value"]
        value = f"{number:g}{' ' + item['unit'] if item.get('unit') else ''} "
    when = local_day(item.get("end") or item.get("start"), tz)
    return f"{item['query']}: {value}on {when} ({item['resource']})"


def explain(measure: Measure, populations: dict[str, bool], gap: str, evidence: list[dict],
            likely_data_gap: bool, tz: tzinfo, period: tuple[str, str]) -> list[str]:
    """Lines that say where the patient stands, why, and what would close the gap."""
    lines = [f"{measure.id} {measure.title} ({period[0]} to {period[1]})"]
    shown = [yes if populations.get(code) else no for code, yes, no in POPULATION_WORDS
             if code in measure.populations or code == Population.DENOMINATOR]
    lines.append("  " + "; ".join(shown) + ".")
    status = STATUS_WORDS.get(gap, gap)
    if measure.inverse:
        status += " (inverse measure: being in the numerator is the gap)"
    lines.append(f"  Gap: {status}.")
    if likely_data_gap:
        lines.append("  Likely a data gap: the practice sends no data of the kind this measure looks for.")
    if evidence:
        lines.append("  Evidence:")
        lines += [f"    - {describe_evidence(item, tz)}" for item in evidence]
    else:
        lines.append("  Evidence: nothing the measure looks for was found.")
    if gap in GAPS and measure.guidance:
        lines.append(f"  To close: {' '.join(measure.guidance.split())}")
    return lines
