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
    (["mail_mx", "mail_store"], {"sshd": "true", "postfix-sasl": "true", "dovecot": "true", "roundcube-auth": "false"}),
    (["mail_mx"], {"sshd": "true", "postfix-sasl": "true", "dovecot": "false", "roundcube-auth": "false"}),
    (["mail_store"], {"sshd": "true", "postfix-sasl": "false", "dovecot": "true", "roundcube-auth": "false"}),
    (["mail_backup"], {"sshd": "true", "postfix-sasl": "false", "dovecot": "false", "roundcube-auth": "false"}),
    (["mail_mx", "mail_store", "mail_webmail"],
     {"sshd": "true", "postfix-sasl": "true", "dovecot": "true", "roundcube-auth": "true"}),
])
def test_jails_follow_the_services_of_the_host(groups, want):
    assert jail_local(groups) == want


def _jail_sections(extra: dict) -> dict[str, dict[str, str]]:
    """{jail: {option: value}} of jail.local rendered with the role defaults plus `extra`."""
    from ansible_collections.gialai.mail.plugins.plugin_utils.networks import mail_networks_outside

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), trim_blocks=True)
    env.filters["comment"] = lambda text: "# " + text
    env.filters["mail_networks_outside"] = mail_networks_outside
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(group_names=["mail_mx", "mail_store", "mail_webmail"], ansible_managed="Ansible managed")
    variables.update(extra)
    variables["fail2ban_jails"] = yaml.safe_load(env.from_string(variables["fail2ban_jails"]).render(**variables))
    sections, jail = {}, None
    for line in env.get_template("etc/fail2ban/jail.local.j2").render(**variables).splitlines():
        if line.startswith("["):
            jail = line.strip("[]")
            sections[jail] = {}
        elif " = " in line and jail:
            key, value = line.split(" = ", 1)
            sections[jail][key] = value
    return sections


@pytest.mark.control("F2B-05")
def test_agency_networks_get_their_own_threshold_and_nobody_else_does():
    agency = ["203.0.113.8/29", "2001:db8:5::/48"]
    jails = _jail_sections({"fail2ban_agency_networks": agency, "fail2ban_agency_maxretry": 20,
                            "fail2ban_ignoreip": ["127.0.0.1/8", "::1", "10.10.0.0/24"]})
    assert jails["DEFAULT"]["maxretry"] == "5"
    for main, agency_jail in (("postfix-sasl", "postfix-sasl-agency"), ("dovecot", "dovecot-agency"),
                              ("roundcube-auth", "roundcube-auth-agency")):
        # the usual jail ignores the agencies (and the administrators), counting everyone else at maxretry 5
        assert jails[main]["ignoreip"].split() == ["127.0.0.1/8", "::1", "10.10.0.0/24", *agency]
        assert "maxretry" not in jails[main]
        # the agency jail: same filter and journal, threshold 20, ignores everything outside the agencies
        other = jails[agency_jail]
        assert other["enabled"] == "true" and other["maxretry"] == "20"
        assert other["journalmatch"] == jails[main]["journalmatch"]
        ignored = other["ignoreip"].split()
        assert ignored[:3] == ["127.0.0.1/8", "::1", "10.10.0.0/24"]
        assert "203.0.113.0/29" in ignored and "203.0.113.16/28" in ignored and "203.0.113.8/29" not in ignored
        assert "2001:db8:4::/48" in ignored and "2001:db8:6::/47" in ignored
    assert jails["postfix-sasl-agency"]["filter"] == "postfix[mode=auth]"
    assert jails["dovecot-agency"]["filter"] == "dovecot"
    assert jails["roundcube-auth-agency"]["filter"] == "roundcube-webmail"
    # a host without Postfix gets no agency jail for it either
    store_only = _jail_sections({"fail2ban_agency_networks": agency, "group_names": ["mail_store"]})
    assert store_only["postfix-sasl-agency"]["enabled"] == "false" and store_only["dovecot-agency"]["enabled"] == "true"


def test_without_agency_networks_the_jails_are_as_before():
    jails = _jail_sections({})
    assert set(jails) == {"DEFAULT", "sshd", "postfix-sasl", "dovecot", "roundcube-auth"}
    assert all("ignoreip" not in jails[j] for j in ("postfix-sasl", "dovecot", "roundcube-auth"))
