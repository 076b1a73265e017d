#!/usr/bin/env bash
# The main job on the embedded SQLite store: install, set up, load fhir_samples/, run every
# stage, then serve the web app on http://127.0.0.1:8000 (Ctrl-C stops it).
source "$(dirname "$0")/_venv.sh" app
exec .venv/bin/caregaps demo "$@"
