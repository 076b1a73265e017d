#!/usr/bin/env bash
# The whole test suite. Set CAREGAPS_TEST_DATABASE_URL=postgresql://... to run every store test
# on PostgreSQL as well as SQLite.
source "$(dirname "$0")/_venv.sh" test "[test]"
# The page tests drive Debian's Chromium; install it (and its driver) when it is missing.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver (Debian) for the browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "browser tests need /usr/bin/chromium: sudo apt-get install chromium chromium-driver" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
