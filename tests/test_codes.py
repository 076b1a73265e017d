"""The population codes and gap statuses are defined once, in caregaps/engine/codes.py.

They are the FHIR measure-population codes and the DEQM gap statuses, so the enum values must
stay these strings (stored runs, JSON and FHIR outputs depend on them); and no other module or
template may type one out as a string literal, so that a code is renamed or searched for in one
place. Python files are read as syntax trees (a code in a docstring or comment is prose, not a
literal); templates are searched for the code in quotes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from caregaps.engine.codes import GAP_STATUSES, POPULATIONS, GapStatus, Population

PACKAGE = Path(__file__).resolve().parent.parent / "caregaps"
CODES = set(POPULATIONS) | set(GAP_STATUSES)
HOME = PACKAGE / "engine" / "codes.py"
FROZEN = PACKAGE / "migrations"  # past schema versions are history: they keep the names they had
ALLOWED = {
    # the same word in another vocabulary: a worklist item dismissed because the measure does not apply
    ("worklist/rules.py", "not-applicable"),
}


def test_the_codes_are_the_fhir_and_deqm_strings():
    assert list(Population) == ["initial-population", "denominator", "denominator-exclusion",
                                "denominator-exception", "numerator", "numerator-exclusion"]
    assert list(GapStatus) == ["open-gap", "prospective-gap", "closed-gap", "not-applicable"]
    assert Population.DENOMINATOR_EXCLUSION.column == "denominator_exclusion"
    assert Population.INITIAL_POPULATION.display == "Initial Population"


def python_literals(path: Path) -> list[tuple[int, str]]:
    """(line, code) of every string constant in the file that is exactly a code (f-string parts included)."""
    tree = ast.parse(path.read_text(), str(path))
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CODES]


def template_literals(path: Path) -> list[tuple[int, str]]:
    """(line, code) of every code written in quotes in a template."""
    pattern = re.compile(r"""(["'])(%s)\1""" % "|".join(map(re.escape, CODES)))
    return [(number, match.group(2)) for number, line in enumerate(path.read_text().splitlines(), 1)
            for match in pattern.finditer(line)]


def retyped() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if path == HOME or FROZEN in path.parents or path.suffix not in (".py", ".html"):
            continue
        read = python_literals if path.suffix == ".py" else template_literals
        name = path.relative_to(PACKAGE).as_posix()
        found += [f"caregaps/{name}:{line}: {code!r}" for line, code in read(path) if (name, code) not in ALLOWED]
    return found


def test_no_module_or_template_types_out_a_population_code_or_gap_status():
    assert retyped() == [], "name them from caregaps.engine.codes (templates: Population.X, GapStatus.X)"


def test_the_search_sees_a_retyped_code(tmp_path):
    (tmp_path / "a.py").write_text('"""open-gap in prose is fine."""\nstatus = "open-gap"\nx = f"{c[\'numerator\']}"\n')
    (tmp_path / "a.html").write_text("<td class=\"gap-open-gap\">{{ f(item, 'prospective-gap') }}</td>\n")
    assert python_literals(tmp_path / "a.py") == [(2, "open-gap"), (3, "numerator")]
    assert template_literals(tmp_path / "a.html") == [(1, "prospective-gap")]
