"""Where an input problem was and what it was: the words a person needs to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in an input: a file and a line (NDJSON) or an entry index (Bundle)."""

    file: str | None = None
    line: int | None = None
    entry: int | None = None

    def __reduce__(self):
        return Location, (self.file, self.line, self.entry)

    def __str__(self) -> str:
        parts = [self.file or "request"]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.entry is not None:
            parts.append(f"entry {self.entry}")
        return " ".join(parts)


class Problem(Exception):
    """Something wrong with one resource (or one input), named by FHIR element path.

    `code` is an OperationOutcome issue type (invalid, structure, required, value,
    not-supported, too-long, incomplete)."""

    def __init__(self, message: str, path: str | None = None, code: str = "invalid",
                 severity: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.code = code
        self.severity = severity


@dataclass(slots=True)
class Issue:
    """A problem pinned to its place in the input and to the resource it concerns."""

    location: Location
    message: str
    path: str | None = None
    code: str = "invalid"
    severity: str = "error"
    resource_type: str | None = None
    resource_id: str | None = None

    def __reduce__(self):
        return Issue, (self.location, self.message, self.path, self.code, self.severity,
                       self.resource_type, self.resource_id)

    @classmethod
    def of(cls, problem: Problem, location: Location, resource_type=None, resource_id=None) -> "Issue":
        return cls(location, problem.message, problem.path, problem.code, problem.severity,
                   resource_type, resource_id)

    def __str__(self) -> str:
        who = f" {self.resource_type}/{self.resource_id or '?'}" if self.resource_type else ""
        where = f" at {self.path}" if self.path else ""
        return f"{self.location}: {self.severity}{who}{where}: {self.message}"
