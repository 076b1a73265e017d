"""OperationOutcome and Bundle-response builders for ingest results and errors."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from caregaps.ingest.problems import Issue

HTTP_STATUS = {"created": "201 Created", "updated": "200 OK", "unchanged": "200 OK",
               "deleted": "204 No Content", "rejected": "400 Bad Request"}


def outcome(issues: list[dict]) -> OperationOutcome:
    """An OperationOutcome from issue dicts (severity, code, diagnostics, expression)."""
    if not issues:
        issues = [{"severity": "information", "code": "informational", "diagnostics": "ok"}]
    return OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": issues})


def error(message: str, code: str = "invalid", path: str | None = None) -> OperationOutcome:
    issue = {"severity": "error", "code": code, "diagnostics": message}
    if path:
        issue["expression"] = [path]
    return outcome([issue])


def issue_dict(issue: Issue) -> dict:
    """One OperationOutcome.issue for an ingest issue, naming where it was and which resource."""
    who = f"{issue.resource_type}/{issue.resource_id or '?'}: " if issue.resource_type else ""
    found = {"severity": issue.severity, "code": issue.code,
             "diagnostics": f"{issue.location}: {who}{issue.message}"}
    if issue.path:
        found["expression"] = [issue.path]
    return found


def response_bundle(kind: str, results) -> Bundle:
    """A transaction-response or batch-response Bundle: one entry per request entry, in order."""
    entries = []
    for result in results:
        response = {"status": HTTP_STATUS[result.outcome]}
        if result.rtype and result.rid and result.outcome != "rejected":
            response["location"] = f"{result.rtype}/{result.rid}"
        errors = [i for i in result.issues if i.severity == "error"] if result.outcome == "rejected" else result.issues
        if errors:
            response["outcome"] = outcome([issue_dict(i) for i in errors]).model_dump(exclude_none=True)
        entries.append({"response": response})
    return Bundle.model_validate({"resourceType": "Bundle", "type": f"{kind}-response", "entry": entries})


def summary_outcome(counts: dict[str, dict[str, int]], results) -> OperationOutcome:
    """For Bundles other than transaction/batch: counts, then every problem found."""
    parts = []
    for rtype in sorted(counts):
        c = counts[rtype]
        parts.append(f"{rtype}: " + ", ".join(f"{c[k]} {k}" for k in sorted(c) if c[k]))
    issues = [{"severity": "information", "code": "informational",
               "diagnostics": "processed " + ("; ".join(parts) or "no entries")}]
    issues += [issue_dict(i) for r in results for i in r.issues]
    return outcome(issues)
