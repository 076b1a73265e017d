"""ACO-level roll-up: patients matched across practices and counted once in the ACO pseudo-practice."""

ACO_ID = "aco"
"""Reserved practice id of the ACO pseudo-practice (Practice.kind == 'aco')."""
