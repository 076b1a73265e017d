"""The measure language: what a measure file may say, parsed into plain objects.

Two kinds of definitions exist. A *query* selects events (facts) of each patient:

    Qualifying Encounters:
      from: encounter                 # a fact kind, or the name of another query
      code: [Office Visit, CPT 97802] # any coding in a value set (by name) or equal to a code
      status: finished
      time: during measurement period

A *condition* is true or false per patient: `exists`, `none`, `count`, `all`, `any`, `not`,
`age`, `sex`, or the name of another condition. `measures/README.md` documents every key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from caregaps.engine import timephrase
from caregaps.engine.source import Mapping, SourceError
from caregaps.ingest.facts import CONDITION_PROFILE_URLS

KINDS = {"observation", "condition", "encounter", "procedure", "medication-request", "medication-dispense",
         "medication-administration", "medication-statement", "immunization", "diagnostic-report",
         "service-request", "device-request", "allergy", "coverage", "medication", "communication"}
ELEMENTS = {"code", "value", "category", "class", "verification", "clinical-status", "intent", "reason",
            "discharge", "status-reason", "body-site", "not-done-reason", "do-not-perform"}
SYSTEMS = {
    "LOINC": "http://loinc.org", "SNOMED": "http://snomed.info/sct",
    "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm", "CPT": "http://www.ama-assn.org/go/cpt",
    "HCPCS": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm", "CVX": "http://hl7.org/fhir/sid/cvx",
    "ACTCODE": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "CONDITION-CLINICAL": "http://terminology.hl7.org/CodeSystem/condition-clinical",
    "CONDITION-VER-STATUS": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
    "CONDITION-CATEGORY": "http://terminology.hl7.org/CodeSystem/condition-category",
    "OBSERVATION-CATEGORY": "http://terminology.hl7.org/CodeSystem/observation-category",
    "US-CORE-CONDITION-CATEGORY": "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
    "ANY": None,
}
PICKS = {"latest", "earliest", "lowest value", "highest value"}
# other elements a query may date its events by (`dated by:`): per element, the fact kind and the
# statuses whose facts keep it (a cancelled Observation's issued: ObservationCancelled)
DATINGS = {"issued": ("observation", ("cancelled",))}
# QI-Core's two Condition profiles: the url a Condition declares (meta.profile), and the categories
# that tell the profile of one that declares none (see `profile`)
CONDITION_PROFILES = {
    "ConditionEncounterDiagnosis": (CONDITION_PROFILE_URLS["ConditionEncounterDiagnosis"],
                                    ("CONDITION-CATEGORY encounter-diagnosis",)),
    "ConditionProblemsHealthConcerns": (CONDITION_PROFILE_URLS["ConditionProblemsHealthConcerns"],
                                        ("CONDITION-CATEGORY problem-list-item", "CONDITION-CATEGORY health-concern",
                                         "US-CORE-CONDITION-CATEGORY health-concern")),
}
_CODE = re.compile(r"^([A-Za-z0-9-]+) (\S+)$")
_VALUE = re.compile(r"^(<=|>=|<|>|=)\s*(-?\d+(?:\.\d+)?)\s*(.*)$")


@dataclass(frozen=True)
class CodeRef:
    label: str  # as written in the file
    valueset: str | None = None  # canonical url
    system: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class ValueTest:
    op: str  # <, <=, >, >=, =, missing, present
    number: float | None = None
    unit: str | None = None


@dataclass
class Query:
    name: str
    file: str
    line: int
    source: str  # a fact kind, or the name of another query
    sources: tuple[str, ...] = ()  # several queries whose events are united (then source is "")
    codes: dict[str, tuple[CodeRef, ...]] = field(default_factory=dict)
    codes_not: dict[str, tuple[CodeRef, ...]] = field(default_factory=dict)
    status: tuple[str, ...] = ()
    status_not: tuple[str, ...] = ()
    time: tuple[timephrase.TimeTest, ...] = ()
    time_not: tuple[timephrase.TimeTest, ...] = ()
    encounter_codes: dict[str, tuple[CodeRef, ...]] | None = None  # the referenced Encounter must match
    encounter_codes_not: dict[str, tuple[CodeRef, ...]] = field(default_factory=dict)
    value: ValueTest | None = None
    pick: str | None = None
    on_latest_day: bool = False
    component: tuple[CodeRef, ...] = ()  # take the value of the component with one of these codes
    profile: str = ""  # a QI-Core Condition profile (its canonical url): declared, or told by category
    profile_categories: tuple[CodeRef, ...] = ()
    dated_by: str | None = None  # another element that dates the events (DATINGS), for every time test
    age: tuple[int | None, int | None] | None = None  # the patient's age on the event's day
    age_on: str = "end"  # which end of the event's interval gives that day
    description: str = ""


@dataclass(frozen=True)
class Exists:
    query: str
    value: ValueTest | None = None
    negate: bool = False


@dataclass(frozen=True)
class Count:
    query: str
    at_least: int
    distinct_days: bool = False


@dataclass(frozen=True)
class AllOf:
    items: tuple


@dataclass(frozen=True)
class AnyOf:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class Age:
    at: timephrase.Point
    low: int | None
    high: int | None


@dataclass(frozen=True)
class Deceased:
    test: timephrase.TimeTest  # a point relation, e.g. "on or before end of measurement period"


@dataclass(frozen=True)
class Sex:
    value: str


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass
class Condition:
    name: str
    file: str
    line: int
    test: object
    description: str = ""


class Vocabulary:
    """Value set and code names visible to a file (its own and those of its includes)."""

    def __init__(self, valuesets: dict[str, str], codes: dict[str, tuple[CodeRef, ...]]) -> None:
        self.valuesets, self.codes = valuesets, codes

    def resolve(self, label: object, file: str, line: int, key: str) -> tuple[CodeRef, ...]:
        """What a name in a code list stands for: a value set, a named code (list), or a code."""
        if not isinstance(label, str):
            raise SourceError(file, line, key, f"expected a value set name or a code such as 'LOINC 4548-4', got {label!r}")
        if label in self.valuesets:
            return (CodeRef(label, valueset=self.valuesets[label]),)
        if label in self.codes:
            return self.codes[label]
        if (m := _CODE.match(label)) and m.group(1).upper() in SYSTEMS:
            return (CodeRef(label, system=SYSTEMS[m.group(1).upper()], code=m.group(2)),)
        raise SourceError(file, line, key, f"undefined value set or code {label!r}")


def parse_code(label: str, text: object, file: str, line: int) -> tuple[CodeRef, ...]:
    """A named code ('LOINC 97506-0') or list of codes; 'ANY code' matches the code in any system."""
    items = text if isinstance(text, list) else [text]
    out = []
    for item in items:
        if not (isinstance(item, str) and (m := _CODE.match(item)) and m.group(1).upper() in SYSTEMS):
            raise SourceError(file, line, label, f"expected SYSTEM CODE with SYSTEM one of {', '.join(sorted(SYSTEMS))}, got {item!r}")
        out.append(CodeRef(item, system=SYSTEMS[m.group(1).upper()], code=m.group(2)))
    return tuple(out)


def parse_value(text: object, file: str, line: int, key: str = "value") -> ValueTest:
    if text in ("missing", "present"):
        return ValueTest(str(text))
    if isinstance(text, str) and (m := _VALUE.match(text.strip())):
        return ValueTest(m.group(1), float(m.group(2)), m.group(3).strip() or None)
    raise SourceError(file, line, key, f"expected a comparison such as '> 9 %', 'missing' or 'present', got {text!r}")


def time_tests(value: object, file: str, line: int) -> tuple[timephrase.TimeTest, ...]:
    phrases = value if isinstance(value, list) else [value]
    try:
        return tuple(timephrase.parse(p) for p in phrases)
    except timephrase.PhraseError as exc:
        raise SourceError(file, line, "time", str(exc)) from None


def as_list(value: object) -> list:
    return list(value) if isinstance(value, list) else [value]


def line_of(node: object, key: str, default: int) -> int:
    return node.line_of(key) if isinstance(node, Mapping) else getattr(node, "line", default) or default
