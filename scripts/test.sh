#!/usr/bin/env bash
# The whole test suite. Set CAREGAPS_TEST_DATABASE_URL=postgresql://... to run every store test
# on PostgreSQL as well as SQLite.
source "$(dirname "$0")/_venv.sh" test "[test]"
exec .venv/bin/python -m pytest "$@"
