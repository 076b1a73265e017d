"""`python -m caregaps ...` is the `caregaps` command."""

from caregaps.cli import main

main()
