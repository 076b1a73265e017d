"""Load and check the measure files: `measures/*.yaml` and their libraries in `measures/library/`.

`load_catalog(root)` returns every measure with its definitions and those of the libraries it
includes, resolved and checked: unknown keys, undefined value sets, codes or definitions, a query
used where a condition is expected (or the reverse), a value test on events without values, and
cycles are `SourceError`s naming file, line and key. `check(root)` collects them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from caregaps.engine.codes import POPULATIONS, Population
from caregaps.engine.definitions import read_definition
from caregaps.engine.language import KINDS, CodeRef, Condition, Query, Vocabulary, parse_code
from caregaps.engine.references import check_definitions
from caregaps.engine.risk import read_risk_model, risk_files
from caregaps.engine.source import Mapping, SourceError, load_yaml

MEASURE_KEYS = {"id", "title", "url", "version", "qpp", "scoring", "improvement", "description", "include",
                "valuesets", "codes", "define", "populations", "evidence", "data", "guidance"}
LIBRARY_KEYS = {"name", "description", "include", "valuesets", "codes", "define"}
REQUIRED_POPULATIONS = (Population.INITIAL_POPULATION, Population.DENOMINATOR, Population.NUMERATOR)


@dataclass
class Library:
    name: str
    file: str
    valuesets: dict[str, str] = field(default_factory=dict)
    codes: dict[str, CodeRef] = field(default_factory=dict)
    definitions: dict = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)


@dataclass
class Measure:
    id: str
    title: str
    url: str
    version: str
    file: str
    scoring: str = "proportion"
    improvement: str = "increase"
    qpp: str | None = None
    description: str = ""
    guidance: str = ""
    populations: dict[str, Condition] = field(default_factory=dict)
    definitions: dict = field(default_factory=dict)  # every visible definition, includes first
    evidence: list[str] = field(default_factory=list)
    data: str | None = None  # a query: a practice with no such events at all has a likely data gap
    valuesets: dict[str, str] = field(default_factory=dict)

    @property
    def inverse(self) -> bool:
        return self.improvement == "decrease"


@dataclass
class Catalog:
    measures: dict[str, Measure]
    libraries: dict[str, Library]
    risk_models: dict = field(default_factory=dict)

    def risk_model(self, model_id: str | None = None):
        """A risk model by id (the only one when `model_id` is None)."""
        if model_id is None and len(self.risk_models) == 1:
            return next(iter(self.risk_models.values()))
        if model_id not in self.risk_models:
            raise KeyError(f"no risk model {model_id!r}; known: {', '.join(sorted(self.risk_models)) or 'none'}")
        return self.risk_models[model_id]

    def get(self, measure_id: str) -> Measure:
        for key, measure in self.measures.items():
            if key.lower() == measure_id.lower():
                return measure
        raise KeyError(f"no measure {measure_id!r}; known: {', '.join(sorted(self.measures))}")


def default_root() -> Path:
    return Path(__file__).resolve().parents[2] / "measures"


def known_valuesets(root: Path) -> set[str]:
    urls = set()
    for path in sorted((root / "valuesets").glob("*.json")):
        url = orjson.loads(path.read_bytes()).get("url")
        if isinstance(url, str):
            urls.add(url.split("|")[0])
    return urls


def load_catalog(root: Path | None = None) -> Catalog:
    """Every measure in `root`, checked; raises the first SourceError found."""
    catalog, errors = _load(root or default_root())
    if errors:
        raise errors[0]
    return catalog


def check(root: Path | None = None) -> tuple[Catalog, list[SourceError]]:
    """The catalog and every error found in its files (an empty list when all are sound)."""
    return _load(root or default_root())


def _load(root: Path) -> tuple[Catalog, list[SourceError]]:
    errors: list[SourceError] = []
    urls = known_valuesets(root)
    libraries: dict[str, Library] = {}
    paths = {path.stem: path for path in sorted((root / "library").glob("*.yaml"))}
    for name in paths:
        try:
            _library(name, paths, libraries, urls, [])
        except SourceError as exc:
            if exc not in errors:
                errors.append(exc)
    measures: dict[str, Measure] = {}
    for path in sorted(root.glob("*.yaml")):
        try:
            measure = _read_measure(path, libraries, urls)
            check_definitions(measure.definitions, measure.populations, measure.evidence, measure.data,
                              KINDS, measure.file)
            measures[measure.id] = measure
        except SourceError as exc:
            errors.append(exc)
    risk_models = {}
    for path in risk_files(root):
        try:
            model = _read_risk(path, libraries, urls)
            risk_models[model.id] = model
        except SourceError as exc:
            errors.append(exc)
    return Catalog(measures, libraries, risk_models), errors


def _read_risk(path: Path, libraries: dict[str, Library], urls: set[str]):
    doc = load_yaml(path)
    if not isinstance(doc, Mapping):
        raise SourceError(path, 1, None, "expected a mapping at the top level")
    file = str(path)
    included = _includes(doc, file, libraries)
    valuesets, codes = _vocabulary(doc, file, included, urls)
    definitions = _definitions(doc, file, Vocabulary(valuesets, codes), included)
    return read_risk_model(doc, file, definitions)


def _library(name: str, paths: dict[str, Path], libraries: dict[str, Library], urls: set[str],
             loading: list[str]) -> Library:
    """Library `name`, reading the libraries it includes first."""
    if name in libraries:
        return libraries[name]
    path = paths[name]
    doc = _top_level(load_yaml(path), path, LIBRARY_KEYS)
    for included in _names(doc.get("include", [])):
        if included in loading:
            raise SourceError(path, doc.line_of("include"), "include", f"circular include of {included!r}")
        if included in paths:
            _library(included, paths, libraries, urls, loading + [name])
    libraries[name] = _read_library(path, doc, libraries, urls)
    return libraries[name]


def _names(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _includes(doc: Mapping, file: str, libraries: dict[str, Library]) -> list[Library]:
    names = doc.get("include", [])
    out = []
    for name in names if isinstance(names, list) else [names]:
        if name not in libraries:
            raise SourceError(file, doc.line_of("include"), "include",
                              f"unknown library {name!r}; libraries are files in measures/library/")
        out.append(libraries[name])
    return out


def _vocabulary(doc: Mapping, file: str, included: list[Library], urls: set[str]) -> tuple[dict, dict]:
    valuesets, codes = {}, {}
    for lib in included:
        valuesets.update(lib.valuesets)
        codes.update(lib.codes)
    own = doc.get("valuesets") or Mapping()
    for name, url in own.items():
        if not isinstance(url, str) or url.split("|")[0] not in urls:
            raise SourceError(file, own.line_of(name), name,
                              f"value set {url!r} is not in measures/valuesets/ (add its FHIR ValueSet JSON)")
        valuesets[name] = url.split("|")[0]
    own_codes = doc.get("codes") or Mapping()
    for name, text in own_codes.items():
        codes[name] = parse_code(name, text, file, own_codes.line_of(name))
    return valuesets, codes


def _definitions(doc: Mapping, file: str, vocab: Vocabulary, included: list[Library]) -> dict:
    definitions = {}
    for lib in included:
        for name, definition in lib.definitions.items():
            if name in definitions and definitions[name] is not definition:
                raise SourceError(file, doc.line_of("include"), "include", f"{name!r} is defined by two libraries")
            definitions[name] = definition
    own = doc.get("define") or Mapping()
    if not isinstance(own, Mapping):
        raise SourceError(file, doc.line_of("define"), "define", "expected a mapping of name to definition")
    for name, node in own.items():
        if name in definitions:
            raise SourceError(file, own.line_of(name), name, "already defined by an included library")
        definitions[name] = read_definition(name, node, file, own.line_of(name), vocab)
    return definitions


def _top_level(doc: object, path: Path, allowed: set[str]) -> Mapping:
    if not isinstance(doc, Mapping):
        raise SourceError(path, 1, None, "expected a mapping at the top level")
    for key in doc:
        if key not in allowed:
            raise SourceError(path, doc.line_of(key), str(key), f"unknown key; allowed: {', '.join(sorted(allowed))}")
    return doc


def _read_library(path: Path, doc: Mapping, libraries: dict[str, Library], urls: set[str]) -> Library:
    file = str(path)
    included = _includes(doc, file, libraries)
    valuesets, codes = _vocabulary(doc, file, included, urls)
    definitions = _definitions(doc, file, Vocabulary(valuesets, codes), included)
    return Library(path.stem, file, valuesets, codes, definitions, [lib.name for lib in included])


def _read_measure(path: Path, libraries: dict[str, Library], urls: set[str]) -> Measure:
    doc = _top_level(load_yaml(path), path, MEASURE_KEYS)
    file = str(path)
    for key in ("id", "title", "url", "version", "populations"):
        if key not in doc:
            raise SourceError(file, doc.line, key, "missing")
    included = _includes(doc, file, libraries)
    valuesets, codes = _vocabulary(doc, file, included, urls)
    definitions = _definitions(doc, file, Vocabulary(valuesets, codes), included)
    if doc.get("improvement", "increase") not in ("increase", "decrease"):
        raise SourceError(file, doc.line_of("improvement"), "improvement", "expected increase or decrease")
    measure = Measure(str(doc["id"]), str(doc["title"]), str(doc["url"]), str(doc["version"]), file,
                      scoring=str(doc.get("scoring", "proportion")), improvement=doc.get("improvement", "increase"),
                      qpp=str(doc["qpp"]) if "qpp" in doc else None, description=str(doc.get("description", "")),
                      guidance=str(doc.get("guidance", "")), definitions=definitions, valuesets=valuesets,
                      evidence=list(doc.get("evidence", []) or []), data=doc.get("data"))
    populations = doc["populations"]
    for code, node in populations.items():
        if code not in POPULATIONS:
            raise SourceError(file, populations.line_of(code), code, f"unknown population; one of {', '.join(POPULATIONS)}")
        measure.populations[code] = read_definition(code, node, file, populations.line_of(code), Vocabulary(valuesets, codes))
    for code in REQUIRED_POPULATIONS:
        if code not in measure.populations:
            raise SourceError(file, populations.line, code, "missing population")
    return measure
