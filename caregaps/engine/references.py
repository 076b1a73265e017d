"""Check that every name a measure uses is defined, of the right type, and free of cycles."""

from __future__ import annotations

from caregaps.engine.language import DATINGS, AllOf, AnyOf, Condition, Count, Exists, Not, Query, Ref
from caregaps.engine.source import SourceError


def base_kind(name: str, definitions: dict, kinds: set[str]) -> str:
    """The fact kind a query finally reads (following `from` through other queries)."""
    seen = set()
    while name not in kinds:
        if name in seen:
            raise ValueError(name)
        seen.add(name)
        query = definitions[name]
        name = query.sources[0] if query.sources else query.source
    return name


def check_definitions(definitions: dict, populations: dict, evidence: list, data: str | None,
                      kinds: set[str], file: str) -> None:
    for definition in definitions.values():
        if isinstance(definition, Query):
            _check_query(definition, definitions, kinds)
        else:
            _check_condition(definition.test, definition, definitions, populations, kinds)
    for condition in populations.values():
        _check_condition(condition.test, condition, definitions, populations, kinds)
    for name in list(evidence) + ([data] if data else []):
        if not isinstance(definitions.get(name), Query):
            raise SourceError(file, None, "evidence" if name != data else "data", f"{name!r} is not a query")
    _check_cycles(definitions, populations)


def _check_query(query: Query, definitions: dict, kinds: set[str]) -> None:
    for source in query.sources or (query.source,):
        if source in kinds and not query.sources:
            continue
        target = definitions.get(source)
        if not isinstance(target, Query):
            what = "a condition, not a query" if target else "not defined"
            raise SourceError(query.file, query.line, "from",
                              f"{source!r} is {what}; 'from' takes a fact kind ({', '.join(sorted(kinds))}), a query or a list of queries")
    for test in query.time + query.time_not:
        for name in test.queries:
            if not isinstance(definitions.get(name), Query):
                raise SourceError(query.file, query.line, "time", f"{test.phrase!r}: {name!r} is not a defined query")
    kind = _kind(query.sources[0] if query.sources else query.source, definitions, kinds)
    if query.profile and kind not in ("condition", None):
        raise SourceError(query.file, query.line, "profile",
                          f"type mismatch: a profile is one of QI-Core's Condition profiles; these are {kind} events")
    if query.dated_by and (query.sources or query.source != DATINGS[query.dated_by][0]):
        raise SourceError(query.file, query.line, "dated by",
                          f"{query.dated_by} dates the facts a query reads 'from: {DATINGS[query.dated_by][0]}'")
    if query.value is not None or query.pick in ("lowest value", "highest value") or query.component:
        key = "value" if query.value else "pick" if query.pick else "component"
        _needs_values(query.sources[0] if query.sources else query.source, definitions, kinds, query.file, query.line, key)


def _kind(name: str, definitions: dict, kinds: set[str]) -> str | None:
    """The fact kind query `name` reads, or None when a cycle or an undefined name (reported
    elsewhere) leaves it unknown."""
    try:
        return base_kind(name, definitions, kinds)
    except (ValueError, KeyError):
        return None


def _needs_values(name: str, definitions: dict, kinds: set[str], file: str, line: int, key: str) -> None:
    if (kind := _kind(name, definitions, kinds)) not in ("observation", None):
        raise SourceError(file, line, key, f"type mismatch: {kind} events have no value; only observations do")


def _check_condition(test, owner: Condition, definitions: dict, populations: dict, kinds: set[str]) -> None:
    if isinstance(test, (AllOf, AnyOf)):
        for item in test.items:
            _check_condition(item, owner, definitions, populations, kinds)
    elif isinstance(test, Not):
        _check_condition(test.item, owner, definitions, populations, kinds)
    elif isinstance(test, Ref):
        target = definitions.get(test.name) or populations.get(test.name)
        if target is None:
            raise SourceError(owner.file, owner.line, owner.name, f"undefined definition {test.name!r}")
        if isinstance(target, Query):
            raise SourceError(owner.file, owner.line, owner.name,
                              f"type mismatch: {test.name!r} is a query (events); write 'exists: {test.name}'")
    elif isinstance(test, (Exists, Count)):
        target = definitions.get(test.query)
        if not isinstance(target, Query):
            what = "a condition (true/false), not a query" if target else "not defined"
            raise SourceError(owner.file, owner.line, owner.name, f"type mismatch or undefined: {test.query!r} is {what}")
        if isinstance(test, Exists) and test.value is not None:
            _needs_values(test.query, definitions, kinds, owner.file, owner.line, "value")


def _uses(definition) -> set[str]:
    if isinstance(definition, Query):
        names = set(definition.sources) | ({definition.source} if definition.source else set())
        for test in definition.time + definition.time_not:
            names |= test.queries
        return names
    return _condition_uses(definition.test)


def _condition_uses(test) -> set[str]:
    if isinstance(test, (AllOf, AnyOf)):
        return set().union(*(_condition_uses(item) for item in test.items)) if test.items else set()
    if isinstance(test, Not):
        return _condition_uses(test.item)
    if isinstance(test, Ref):
        return {test.name}
    if isinstance(test, (Exists, Count)):
        return {test.query}
    return set()


def _check_cycles(definitions: dict, populations: dict) -> None:
    everything = {**definitions, **populations}
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in everything:
            return
        if state.get(name) == 1:
            owner = everything[name]
            raise SourceError(owner.file, owner.line, name, "circular definition: " + " -> ".join(path + [name]))
        state[name] = 1
        for used in _uses(everything[name]):
            visit(used, path + [name])
        state[name] = 2

    for name in everything:
        visit(name, [])


def query_order(definitions: dict, kinds: set[str]) -> list[str]:
    """Query names in an order where every query comes after the queries it reads."""
    order: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done or name in kinds or not isinstance(definitions.get(name), Query):
            return
        done.add(name)
        for used in _uses(definitions[name]):
            visit(used)
        order.append(name)

    for name in definitions:
        visit(name)
    return order


def reachable(definitions: dict, populations: dict, roots: list[str]) -> set[str]:
    """Every definition (query or condition) that the named roots read, directly or not."""
    everything = {**definitions, **populations}
    seen: set[str] = set()
    stack = [r for r in roots if r in everything]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(n for n in _uses(everything[name]) if n in everything and n not in seen)
    return seen


def inlinable(definitions: dict, populations: dict, names: set[str], keep: set[str]) -> set[str]:
    """Queries among `names` that exactly one other query reads as its source and nothing else
    reads (no condition, time phrase, evidence or data check): they need not be stored."""
    as_source: dict[str, int] = {}
    elsewhere: set[str] = set(keep)
    for name in names | set(populations):
        definition = definitions.get(name) or populations.get(name)
        if isinstance(definition, Query):
            for source in definition.sources or (definition.source,):
                as_source[source] = as_source.get(source, 0) + 1
            for test in definition.time + definition.time_not:
                elsewhere |= test.queries
        elif definition is not None:
            elsewhere |= _condition_uses(definition.test)
    return {n for n in names if isinstance(definitions.get(n), Query) and as_source.get(n) == 1 and n not in elsewhere}
