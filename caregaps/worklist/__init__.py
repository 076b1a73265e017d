"""Care-manager worklists: priority, status rules, building them from runs, changing them."""
