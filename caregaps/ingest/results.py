"""The outcome of one input entry: created, updated, unchanged, deleted or rejected."""

from __future__ import annotations

from dataclasses import dataclass, field

from caregaps.ingest.problems import Issue
from caregaps.ingest.readers import Entry
from caregaps.ingest.store import Prepared


@dataclass
class EntryResult:
    """What happened to one entry, and the issues raised about it. `outcome` is "pending"
    until the store has written the entry's `item`."""

    entry: Entry
    outcome: str
    rtype: str | None = None
    rid: str | None = None
    issues: list[Issue] = field(default_factory=list)
    item: Prepared | None = None

    def __reduce__(self):
        return EntryResult, (self.entry, self.outcome, self.rtype, self.rid, self.issues, self.item)
