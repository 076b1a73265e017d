"""Check an export without storing it: what ingest would reject, and (strict) full validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from caregaps.ingest.checks import check_envelope, strict_problems
from caregaps.ingest.problems import Issue, Problem
from caregaps.ingest.readers import read_file
from caregaps.ingest.store import prepare


@dataclass
class ValidationReport:
    resources: int = 0
    rejected: int = 0
    warnings: int = 0
    issues: list[Issue] = field(default_factory=list)


def validate_files(files: list[Path], strict: bool = True) -> ValidationReport:
    report = ValidationReport()
    for path in files:
        for entry in read_file(path):
            report.resources += 1
            if entry.problem is not None:
                _reject(report, [Issue.of(entry.problem, entry.location)])
                continue
            if entry.delete is not None:
                continue
            rtype = rid = None
            try:
                rtype, rid = check_envelope(entry.resource)
                item = prepare(entry.resource, rtype, rid, entry.text, entry.location, timezone.utc)
                problems = strict_problems(entry.resource) if strict else []
            except Problem as problem:
                problems, item = [problem], None
            issues = [Issue.of(p, entry.location, rtype, rid) for p in problems]
            if issues:
                _reject(report, issues)
            elif item is not None and item.warnings:
                report.warnings += len(item.warnings)
                report.issues.extend(Issue.of(w, entry.location, rtype, rid) for w in item.warnings)
    return report


def _reject(report: ValidationReport, issues: list[Issue]) -> None:
    report.rejected += 1
    report.issues.extend(issues)
