"""Every role variable is in defaults/main.yml, meta/argument_specs.yml and the README."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(
    p
    for p in (ROOT / "roles").iterdir()
    if (p / "meta" / "argument_specs.yml").exists()
)


def _specs(role):
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())[
        "argument_specs"
    ]


# The mail role declares the inventory's mail_* data, which playbooks/group_vars/all/mail.yml
# reads in every play; a role's defaults are visible only in the play that runs the role, so
# a default there would hide a missing value in the preflight only. It has none, and no
# option of its spec claims one (an unset value's meaning is in its description).
NO_DEFAULTS = {"mail"}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_defaults_and_argument_specs_name_the_same_variables(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    options = _specs(role)["main"]["options"]
    if role.name in NO_DEFAULTS:
        assert defaults == {} and [n for n, s in options.items() if "default" in s] == []
        return
    assert set(defaults) == set(
        options
    ), f"only in defaults: {set(defaults) - set(options)}; only in specs: {set(options) - set(defaults)}"


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_spec_defaults_equal_role_defaults(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    options = _specs(role)["main"]["options"]
    for name, spec in options.items():
        if spec.get("required") or role.name in NO_DEFAULTS:
            continue
        d = defaults[name]
        if isinstance(d, str) and "{{" in d:
            continue  # templated defaults are documented as text
        assert spec.get("default") == d, name


# The backup client and the backup host side were one role, `backup`: both keep the
# backup_ names users' inventories set (one value, e.g. backup_server_root, serves both).
VARIABLE_PREFIX = {"backup_client": "backup_", "backup_server": "backup_"}


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_every_variable_carries_the_role_prefix(role):
    prefix = VARIABLE_PREFIX.get(role.name, role.name + "_")
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    assert all(name.startswith(prefix) for name in defaults), [
        n for n in defaults if not n.startswith(prefix)
    ]


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_validate_entry_point_is_the_main_spec(role):
    specs = _specs(role)
    assert (
        specs.get("validate") == specs["main"]
    ), "the validate entry point must share main's options"


def test_role_readmes_are_generated_from_the_specs():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "role-docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
