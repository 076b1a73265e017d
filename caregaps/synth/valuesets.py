"""The measure value sets (`measures/valuesets/*.json`) as the generator's source of codes.

Every code the generator writes for something a measure looks for (diabetes, office visits,
mammograms, ...) is read from these files, so measure engines find real numerators and gaps.
A value set is found by its `name`; several files with one name (two versions) are merged.
Codings come back sorted, so that `rng.choice` over them is deterministic.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import orjson

import caregaps


class ValueSetError(LookupError):
    """A value set, or a code the generator relies on, is not in the value set files."""


def default_folder() -> Path:
    return Path(caregaps.__file__).resolve().parent.parent / "measures" / "valuesets"


class ValueSets:
    """Codings of each value set by name, as plain `{"system", "code", "display"}` dicts."""

    def __init__(self, folder: Path):
        if not folder.is_dir():
            raise ValueSetError(f"value set folder {folder} not found: the generator reads its codes "
                                "from measures/valuesets/*.json next to the caregaps package")
        self.folder = folder
        self._by_name: dict[str, list[dict]] = {}
        for path in sorted(folder.glob("*.json")):
            document = orjson.loads(path.read_bytes())
            name = document.get("name")
            contains = (document.get("expansion") or {}).get("contains") or []
            if isinstance(name, str):
                self._by_name.setdefault(name, []).extend(_coding(c) for c in contains if c.get("code"))
        for name, codings in self._by_name.items():
            unique = {(c["system"], c["code"]): c for c in codings}
            self._by_name[name] = [unique[key] for key in sorted(unique)]
        if not self._by_name:
            raise ValueSetError(f"no value sets in {folder}")

    def codings(self, name: str, system: str | None = None, where: str | None = None) -> list[dict]:
        """Sorted codings of a value set, optionally of one system (a suffix such as "cpt" or
        "icd-10-cm" is enough) and whose display matches the regular expression `where`."""
        found = [c for c in self._members(name)
                 if (system is None or c["system"].endswith(system))
                 and (where is None or re.search(where, c["display"], re.IGNORECASE))]
        if not found:
            raise ValueSetError(f"value set {name!r} has no codings of system {system!r} matching {where!r}")
        return found

    def coding(self, name: str, code: str) -> dict:
        """The coding of `code` in a value set; ValueSetError if the code is not a member."""
        for c in self._members(name):
            if c["code"] == code:
                return c
        raise ValueSetError(f"code {code!r} is not in value set {name!r} ({self.folder})")

    def contains(self, name: str, system: str, code: str) -> bool:
        return any(c["system"] == system and c["code"] == code for c in self._members(name))

    def _members(self, name: str) -> list[dict]:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueSetError(f"no value set named {name!r} in {self.folder}") from None


def _coding(item: dict) -> dict:
    return {"system": item.get("system", ""), "code": item["code"], "display": item.get("display") or item["code"]}


@lru_cache(maxsize=4)
def load(folder: Path | None = None) -> ValueSets:
    """The value sets of `folder` (the repository's measures/valuesets by default), read once."""
    return ValueSets(folder or default_folder())
