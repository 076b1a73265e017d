"""The quality lead's dashboard: measure rates by ACO, practice, clinician and stratum, targets
and gaps to close, trends from stored runs, drill-down to patients, and submission exports."""
