"""A role's release differences (vars/Debian-12.yml, vars/Debian-13.yml) are loaded one way:
the task below, through the lookup gialai.mail.release_vars (plugins/lookup/release_vars.py,
its logic plugins/plugin_utils/release.py), first in every entry point that runs on the host."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleError

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOADER = {"name": "Load the release's variables",
          "ansible.builtin.include_vars": "{{ lookup('gialai.mail.release_vars') }}"}
# Entry points that run on the controller before any host is contacted (no facts).
CONTROLLER_ENTRY_POINTS = {"validate"}
RELEASE_ROLES = sorted(p.parent.parent.name for p in ROOT.glob("roles/*/vars/Debian-*.yml"))


def _entry_points(role: str) -> list[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return sorted(set(specs) - CONTROLLER_ENTRY_POINTS)


def test_the_roles_with_release_files():
    assert sorted(set(RELEASE_ROLES)) == ["dovecot", "hardening", "metrics", "postfix", "ssh", "webmail"]


@pytest.mark.parametrize("role", sorted(set(RELEASE_ROLES)))
def test_every_entry_point_on_the_host_first_loads_the_release_file_one_way(role):
    for entry in _entry_points(role):
        tasks = yaml.safe_load((ROOT / "roles" / role / "tasks" / f"{entry}.yml").read_text())
        first = {k: v for k, v in tasks[0].items() if k != "tags"}
        assert first == LOADER, f"roles/{role}/tasks/{entry}.yml: the first task is not the release loader"
        if entry == "main":  # also under --tags <role>_<concern>
            assert tasks[0].get("tags") == ["always"], f"roles/{role}/tasks/main.yml: the loader is not tagged always"


def test_no_other_way_to_load_a_release_file():
    others = [str(p.relative_to(ROOT)) for p in (ROOT / "roles").rglob("*.yml")
              if "first_found" in p.read_text() or "distribution_major_version" in p.read_text()]
    assert others == []


@pytest.mark.parametrize("role", sorted(set(RELEASE_ROLES)))
@pytest.mark.parametrize("release", ["12", "13"])
def test_the_lookup_gives_the_roles_file_for_the_hosts_release(role, release):
    from ansible_collections.gialai.mail.plugins.lookup.release_vars import LookupModule

    role_path = str(ROOT / "roles" / role)
    facts = {"distribution": "Debian", "distribution_major_version": release}
    got = LookupModule().run([], variables={"role_path": role_path, "ansible_facts": facts})
    assert got == [f"{role_path}/vars/Debian-{release}.yml"]
    assert yaml.safe_load(pathlib.Path(got[0]).read_text())  # a file with variables


@pytest.mark.parametrize(("facts", "message"), [
    ({"distribution": "Debian", "distribution_major_version": "11"},
     "role postfix does not support Debian 11 (no vars/Debian-11.yml; it has: Debian-12, Debian-13)"),
    ({"distribution": "Ubuntu", "distribution_major_version": "24"},
     "role postfix does not support Ubuntu 24 (no vars/Ubuntu-24.yml; it has: Debian-12, Debian-13)"),
    ({}, "release variables of role postfix: needs role_path and the host's facts distribution and "
         "distribution_major_version (gather facts first)"),
])
def test_a_release_the_role_does_not_know_stops_with_its_name(facts, message):
    from ansible_collections.gialai.mail.plugins.plugin_utils.release import release_vars_file

    with pytest.raises(AnsibleError) as error:
        release_vars_file(str(ROOT / "roles" / "postfix"), facts.get("distribution"),
                          facts.get("distribution_major_version"))
    assert str(error.value) == message
