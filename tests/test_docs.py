"""The documentation stays true: every setting is in the README's table, and docker-compose.yml
runs the app, the scheduler, PostgreSQL and mailpit with settings that exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from caregaps.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`(CAREGAPS_[A-Z_]+)`", readme))
    missing = {f"CAREGAPS_{name.upper()}" for name in Settings.model_fields} - documented
    assert not missing, f"settings missing from README.md: {', '.join(sorted(missing))}"


def test_compose_runs_app_scheduler_database_and_mailpit_with_known_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"app", "scheduler", "db", "mailpit"} <= set(services)
    assert services["scheduler"]["command"] == ["caregaps", "scheduler"]
    known = {f"CAREGAPS_{name.upper()}" for name in Settings.model_fields}
    for name, service in services.items():
        for variable in service.get("environment", {}):
            if variable.startswith("CAREGAPS_"):
                assert variable in known, f"docker-compose.yml service {name}: unknown setting {variable}"
    assert services["app"]["environment"]["CAREGAPS_SCHEDULER"] == "off"  # one scheduler: its own service
    assert services["app"]["environment"]["CAREGAPS_SMTP_HOST"] == "mailpit"
