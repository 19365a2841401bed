"""fail2ban watches the services a host runs, by inventory group (roles/fail2ban)."""

from __future__ import annotations

import pathlib

import jinja2
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "fail2ban"


def jail_local(group_names) -> dict[str, str]:
    """{jail: enabled} of jail.local as the role writes it with its defaults for a host in group_names."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True)
    env.filters["comment"] = lambda text: "# " + text
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(group_names=group_names, ansible_managed="Ansible managed")
    variables["fail2ban_jails"] = yaml.safe_load(env.from_string(variables["fail2ban_jails"]).render(**variables))
    text = env.get_template("etc/fail2ban/jail.local.j2").render(**variables)
    enabled, jail = {}, None
    for line in text.splitlines():
        if line.startswith("["):
            jail = line.strip("[]")
        elif line.startswith("enabled = "):
            enabled[jail] = line.split(" = ")[1]
    return enabled


@pytest.mark.control("F2B-01")
@pytest.mark.parametrize(("groups", "want"), [
    (["mail_mx", "mail_store"], {"sshd": "true", "postfix-sasl": "true", "dovecot": "true"}),
    (["mail_mx"], {"sshd": "true", "postfix-sasl": "true", "dovecot": "false"}),
    (["mail_store"], {"sshd": "true", "postfix-sasl": "false", "dovecot": "true"}),
    (["mail_backup"], {"sshd": "true", "postfix-sasl": "false", "dovecot": "false"}),
])
def test_jails_follow_the_services_of_the_host(groups, want):
    assert jail_local(groups) == want
