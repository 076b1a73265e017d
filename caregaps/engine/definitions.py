"""Read one definition (a query or a condition) from its YAML mapping, naming file:line:key on errors."""

from __future__ import annotations

from caregaps.engine import timephrase
from caregaps.engine.language import (CONDITION_PROFILES, DATINGS, ELEMENTS, PICKS, Age, AllOf, AnyOf, Condition,
                                      Count, Deceased, Exists, Not, Query, Ref, Sex, Vocabulary, as_list, line_of,
                                      parse_value, time_tests)
from caregaps.engine.source import Mapping, SourceError

QUERY_KEYS = {"from", "code", "where", "where not", "status", "status not", "time", "time not", "value",
              "pick", "only", "component", "encounter", "age", "age on", "profile", "dated by", "description"}
CONDITION_KEYS = {"exists", "none", "count", "all", "any", "not", "age", "sex", "deceased"}


def read_definition(name: str, node: object, file: str, line: int, vocab: Vocabulary):
    """A Query when the mapping has `from`, else a Condition."""
    if isinstance(node, Mapping) and "from" in node:
        return read_query(name, node, file, vocab)
    description = ""
    if isinstance(node, Mapping) and "description" in node:
        node = Mapping(node)  # copy without the description
        description = str(node.pop("description"))
    return Condition(name, file, line, read_condition(node, file, line), description)


def read_query(name: str, node: Mapping, file: str, vocab: Vocabulary) -> Query:
    _only(node, QUERY_KEYS, file, "a query")
    source = node["from"]
    sources: tuple[str, ...] = ()
    if isinstance(source, list) and source and all(isinstance(s, str) for s in source):
        sources, source = tuple(source), ""
    elif not isinstance(source, str):
        raise SourceError(file, node.line_of("from"), "from", "expected a fact kind, a query name or a list of query names")
    query = Query(name, file, node.line, source, sources, description=str(node.get("description", "")))
    if "code" in node:
        query.codes["code"] = _codes(node["code"], file, node.line_of("code"), "code", vocab)
    query.codes.update(_by_element(node, "where", file, vocab))
    query.codes_not = _by_element(node, "where not", file, vocab)
    query.status = _words(node, "status", file)
    query.status_not = _words(node, "status not", file)
    if "time" in node:
        query.time = time_tests(node["time"], file, node.line_of("time"))
    if "time not" in node:
        query.time_not = time_tests(node["time not"], file, node.line_of("time not"))
    if "encounter" in node:
        spec = node["encounter"]
        if not isinstance(spec, Mapping):
            raise SourceError(file, node.line_of("encounter"), "encounter", "expected a mapping with 'where' and/or 'where not'")
        _only(spec, {"where", "where not"}, file, "'encounter'")
        query.encounter_codes = _by_element(spec, "where", file, vocab)
        query.encounter_codes_not = _by_element(spec, "where not", file, vocab)
    if "value" in node:
        query.value = parse_value(node["value"], file, node.line_of("value"))
    if "pick" in node:
        if node["pick"] not in PICKS:
            raise SourceError(file, node.line_of("pick"), "pick", f"expected one of {', '.join(sorted(PICKS))}")
        query.pick = node["pick"]
    if "only" in node:
        if node["only"] != "latest day":
            raise SourceError(file, node.line_of("only"), "only", "expected 'latest day'")
        query.on_latest_day = True
    if "age" in node:
        bounds = _age(node["age"], "end of measurement period", file, node.line_of("age"))
        query.age = (bounds.low, bounds.high)
    if "age on" in node:
        if node["age on"] not in ("start", "end"):
            raise SourceError(file, node.line_of("age on"), "age on", "expected start or end (of the event)")
        query.age_on = node["age on"]
    if "component" in node:
        query.component = _codes(node["component"], file, node.line_of("component"), "component", vocab)
    if "profile" in node:
        if node["profile"] not in CONDITION_PROFILES:
            raise SourceError(file, node.line_of("profile"), "profile",
                              f"expected a QI-Core Condition profile: {' or '.join(sorted(CONDITION_PROFILES))}")
        query.profile, categories = CONDITION_PROFILES[node["profile"]]
        query.profile_categories = _codes(list(categories), file, node.line_of("profile"), "profile", vocab)
    if "dated by" in node:
        query.dated_by = _dating(node, query, file)
    return query


def _dating(node: Mapping, query: Query, file: str) -> str:
    element, line = node["dated by"], node.line_of("dated by")
    if element not in DATINGS:
        raise SourceError(file, line, "dated by", f"expected one of {', '.join(sorted(DATINGS))}")
    statuses = DATINGS[element][1]
    if not query.status or not set(query.status) <= set(statuses):
        raise SourceError(file, line, "dated by", f"{element} is kept for {' or '.join(statuses)} events only: "
                                                  f"add status: {' or '.join(statuses)}")
    return element


def read_condition(node: object, file: str, line: int):
    if isinstance(node, str):
        return Ref(node)
    if not isinstance(node, Mapping):
        raise SourceError(file, line, None, f"expected a condition (a name or a mapping), got {node!r}")
    keys = [k for k in node if k in CONDITION_KEYS]
    if len(keys) != 1:
        unknown = [k for k in node if k not in CONDITION_KEYS]
        key = unknown[0] if unknown else None
        message = (f"unknown key; a condition is one of {', '.join(sorted(CONDITION_KEYS))}" if unknown
                   else "a condition has exactly one of " + ", ".join(sorted(CONDITION_KEYS)))
        raise SourceError(file, node.line_of(key) if key else node.line, key, message)
    key = keys[0]
    here = node.line_of(key)
    value = node[key]
    if key in ("all", "any"):
        _only(node, {key}, file, f"'{key}'")
        items = tuple(read_condition(item, file, line_of(item, key, here)) for item in as_list(value))
        return AllOf(items) if key == "all" else AnyOf(items)
    if key == "not":
        _only(node, {key}, file, "'not'")
        return Not(read_condition(value, file, here))
    if key in ("exists", "none"):
        _only(node, {key, "value"}, file, f"'{key}'")
        test = parse_value(node["value"], file, node.line_of("value")) if "value" in node else None
        return Exists(_name(value, file, here, key), test, negate=key == "none")
    if key == "count":
        _only(node, {"count", "at least", "distinct"}, file, "'count'")
        at_least = node.get("at least")
        if not isinstance(at_least, int):
            raise SourceError(file, node.line_of("at least") if "at least" in node else here, "at least",
                              "expected a whole number")
        if node.get("distinct", "days") != "days":
            raise SourceError(file, node.line_of("distinct"), "distinct", "expected 'days'")
        return Count(_name(value, file, here, key), at_least, distinct_days="distinct" in node)
    if key == "age":
        _only(node, {"age", "at"}, file, "'age'")
        return _age(value, node.get("at", "end of measurement period"), file, here)
    if key == "deceased":
        _only(node, {"deceased"}, file, "'deceased'")
        test = time_tests(value, file, here)[0]
        if test.point is None or test.point.of is not None or test.by_day:
            raise SourceError(file, here, "deceased", "expected before/after/on or before/on or after a point of the period, compared as instants (no 'day of')")
        return Deceased(test)
    _only(node, {"sex"}, file, "'sex'")
    if value not in ("female", "male"):
        raise SourceError(file, here, "sex", "expected female or male (the US Core sex extension of Patient)")
    return Sex(value)


def _age(value: object, at: object, file: str, line: int) -> Age:
    text = str(value).strip()
    low = high = None
    try:
        if text.endswith("or older"):
            low = int(text.removesuffix("or older"))
        elif text.endswith("or younger"):
            high = int(text.removesuffix("or younger"))
        elif " to " in text:
            low, high = (int(part) for part in text.split(" to "))
        else:
            raise ValueError
    except ValueError:
        raise SourceError(file, line, "age", f"expected 'N to M', 'N or older' or 'N or younger', got {value!r}") from None
    try:
        point = timephrase._point(str(at), str(at))
    except timephrase.PhraseError as exc:
        raise SourceError(file, line, "at", str(exc)) from None
    if point.of is not None:
        raise SourceError(file, line, "at", "age is measured at a point of the measurement period")
    return Age(point, low, high)


def _name(value: object, file: str, line: int, key: str) -> str:
    if not isinstance(value, str):
        raise SourceError(file, line, key, f"expected the name of a query, got {value!r}")
    return value


def _only(node: Mapping, allowed: set[str], file: str, what: str) -> None:
    for key in node:
        if key not in allowed:
            raise SourceError(file, node.line_of(key), str(key), f"unknown key in {what}; allowed: {', '.join(sorted(allowed))}")


def _codes(value: object, file: str, line: int, key: str, vocab: Vocabulary) -> tuple:
    items = as_list(value)
    return tuple(ref for item in items for ref in vocab.resolve(item, file, line_of(items, key, line), key))


def _by_element(node: Mapping, key: str, file: str, vocab: Vocabulary) -> dict:
    if key not in node:
        return {}
    spec = node[key]
    if not isinstance(spec, Mapping):
        raise SourceError(file, node.line_of(key), key, "expected a mapping of element to codes")
    for element in spec:
        if element not in ELEMENTS:
            raise SourceError(file, spec.line_of(element), element, f"unknown element; one of {', '.join(sorted(ELEMENTS))}")
    return {element: _codes(codes, file, spec.line_of(element), element, vocab) for element, codes in spec.items()}


def _words(node: Mapping, key: str, file: str) -> tuple[str, ...]:
    if key not in node:
        return ()
    values = as_list(node[key])
    if not all(isinstance(v, str) for v in values):
        raise SourceError(file, node.line_of(key), key, "expected a status code or a list of them")
    return tuple(values)
