"""Hospice and palliative care beyond the visits themselves: a hospice care Procedure from the
HospiceCareAmbulatory value set at hospice admission (in progress until death or the extract
date) and a palliative care intervention (PalliativeCareIntervention) at the palliative consult.
Measures exclude such patients, so these resources exercise the exclusion logic.
"""

from __future__ import annotations

from datetime import datetime, time

from caregaps.synth.chart import Chart, organization_ref

PALLIATIVE_INTERVENTIONS = ("103735009", "395695001")


def add_end_of_life_care(chart: Chart) -> None:
    person, vs = chart.person, chart.vs
    for visit in chart.visits:
        if visit.kind == "hospice" and visit.reason == "admission":
            period = {"start": chart.stamp(visit.start)}
            if person.death:
                period["end"] = chart.stamp(datetime.combine(person.death, time(21, 0)))
            chart.add({"resourceType": "Procedure", "id": chart.new_id(),
                       "status": "completed" if person.death else "in-progress",
                       "code": {"coding": [vs.coding("HospiceCareAmbulatory", "385763009")]},
                       "subject": chart.subject, "encounter": chart.ref("Encounter", visit.id),
                       "performedPeriod": period, "performer": [{"actor": organization_ref(chart.practice.hospital)}]})
        elif visit.kind == "palliative":
            code = vs.coding("PalliativeCareIntervention", chart.rng.choice(PALLIATIVE_INTERVENTIONS))
            chart.add({"resourceType": "Procedure", "id": chart.new_id(), "status": "completed",
                       "code": {"coding": [code]}, "subject": chart.subject,
                       "encounter": chart.ref("Encounter", visit.id), "performedDateTime": chart.stamp(visit.end)})
