"""Who a patient belongs to and who pays: the attributed clinician and the primary payer.

Clinician: the patient's general practitioner; else the clinician (Encounter.participant
individual) of most of the patient's encounters in the 12 months before the day given, the
latest of them on a tie; else 'unattributed'. Payer: the payer type (or payor) of the
patient's active Coverage with the lowest `order`. Both are read from the raw resources of the
practice, where facts do not carry them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import orjson
from sqlalchemy import Connection, select

from caregaps.models import Fact, Patient, RawResource

RAW, FACT, PATIENT = RawResource.__table__, Fact.__table__, Patient.__table__
UNATTRIBUTED = "unattributed"
CHUNK = 500


def _bodies(conn: Connection, practice_id: str, rtype: str, ids: list[str] | None = None):
    where = [RAW.c.practice_id == practice_id, RAW.c.resource_type == rtype, RAW.c.is_current,
             RAW.c.deleted.is_(False)]
    if ids is None:
        yield from (orjson.loads(b) for b in conn.execute(select(RAW.c.body).where(*where)).scalars() if b)
        return
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i:i + CHUNK]
        yield from (orjson.loads(b) for b in conn.execute(select(RAW.c.body).where(*where, RAW.c.resource_id.in_(chunk)))
                    .scalars() if b)


def _ref(value) -> str | None:
    ref = (value or {}).get("reference") if isinstance(value, dict) else None
    return ref if isinstance(ref, str) and "/" in ref else None


def attributed_clinicians(conn: Connection, practice_id: str, as_of: date) -> dict[str, str]:
    """patient id -> 'Practitioner/<id>' (or UNATTRIBUTED), by the rule in the module docstring."""
    patients = dict(conn.execute(select(PATIENT.c.resource_id, PATIENT.c.general_practitioner)
                                 .where(PATIENT.c.practice_id == practice_id)).all())
    out = {pid: gp for pid, gp in patients.items() if gp}
    missing = [pid for pid in patients if pid not in out]
    if missing:
        since = datetime.combine(as_of - timedelta(days=365), datetime.min.time())
        until = datetime.combine(as_of + timedelta(days=1), datetime.min.time())
        visits = []
        for i in range(0, len(missing), CHUNK):
            visits += conn.execute(select(FACT.c.resource_id, FACT.c.patient_id, FACT.c.start).where(
                FACT.c.practice_id == practice_id, FACT.c.kind == "encounter", FACT.c.start >= since,
                FACT.c.start < until, FACT.c.patient_id.in_(missing[i:i + CHUNK]))).all()
        when = {rid: (pid, start) for rid, pid, start in visits}
        seen: dict[str, Counter] = {}
        latest: dict[tuple[str, str], datetime] = {}
        for enc in _bodies(conn, practice_id, "Encounter", sorted(when)):
            pid, start = when[enc.get("id")]
            for part in enc.get("participant") or []:
                if (clinician := _ref(part.get("individual"))) and clinician.startswith("Practitioner/"):
                    seen.setdefault(pid, Counter())[clinician] += 1
                    latest[(pid, clinician)] = max(latest.get((pid, clinician), start), start)
        for pid, counts in seen.items():
            out[pid] = max(counts, key=lambda c: (counts[c], latest[(pid, c)]))
    return {pid: out.get(pid, UNATTRIBUTED) for pid in patients}


def clinician_names(conn: Connection, practice_id: str) -> dict[str, str]:
    """'Practitioner/<id>' -> 'Given Family' from the practice's Practitioner resources."""
    names = {}
    for p in _bodies(conn, practice_id, "Practitioner"):
        name = (p.get("name") or [{}])[0]
        text = name.get("text") or " ".join([*(name.get("given") or []), name.get("family") or ""]).strip()
        names[f"Practitioner/{p.get('id')}"] = text or p.get("id")
    return names


def primary_payers(conn: Connection, practice_id: str) -> dict[str, str]:
    """patient id -> the payer of their active Coverage with the lowest order."""
    best: dict[str, tuple[int, str]] = {}
    for cov in _bodies(conn, practice_id, "Coverage"):
        if cov.get("status") not in (None, "active"):
            continue
        patient = _ref(cov.get("beneficiary"))
        if not patient or not patient.startswith("Patient/"):
            continue
        kind = (cov.get("type") or {})
        label = kind.get("text") or next((c.get("display") or c.get("code") for c in kind.get("coding") or []), None) \
            or next((p.get("display") for p in cov.get("payor") or [] if isinstance(p, dict)), None)
        if label:
            order = cov.get("order") if isinstance(cov.get("order"), int) else 99
            pid = patient.split("/", 1)[1]
            if pid not in best or order < best[pid][0]:
                best[pid] = (order, label)
    return {pid: label for pid, (_, label) in best.items()}
