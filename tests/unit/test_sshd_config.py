"""sshd_config as the ssh role writes it (roles/ssh/templates): extension points for other roles."""

from __future__ import annotations

import pathlib

import jinja2
import jinja2.nativetypes
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "ssh"


def render(release: str = "13", **overrides) -> list[str]:
    """The non-comment lines of sshd_config for a Debian release, role defaults plus overrides."""
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(overrides)
    for vars_file in ("main.yml", f"Debian-{release}.yml"):
        variables.update(yaml.safe_load((ROLE / "vars" / vars_file).read_text()))
    native = jinja2.nativetypes.NativeEnvironment()
    for name, value in list(variables.items()):  # resolve the role's templated vars (one level is enough)
        if isinstance(value, str) and "{{" in value:
            try:
                variables[name] = native.from_string(value).render(**variables)
            except jinja2.UndefinedError:  # run-time values (facts, registered results), not in sshd_config
                pass
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True)
    env.filters["comment"] = lambda text: "# " + text
    text = env.get_template("etc/ssh/sshd_config.j2").render(ansible_managed="Ansible managed", **variables)
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.control("SSH-03")
@pytest.mark.parametrize("release", ["12", "13"])
def test_include_of_the_drop_ins_is_the_last_line(release):
    assert render(release)[-1] == "Include /etc/ssh/sshd_config.d/*.conf"


@pytest.mark.control("SSH-01")
def test_allowed_groups_are_extendable_for_a_backup_host():
    assert "AllowGroups sshadmins" in render()
    assert "AllowGroups sshadmins mail-backup-sftp" in render(ssh_allow_groups_extra=["mail-backup-sftp"])
