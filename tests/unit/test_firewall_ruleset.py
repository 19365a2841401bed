"""The nftables ruleset a host gets, by inventory group (roles/firewall/templates)."""

from __future__ import annotations

import pathlib
import re

import jinja2
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "firewall"


def render(group_names, **overrides) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), keep_trailing_newline=True)
    env.filters["comment"] = lambda text: "# " + text
    env.tests["search"] = lambda value, pattern: re.search(pattern, value) is not None  # Ansible's test
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(group_names=group_names, ansible_managed="Ansible managed", **overrides)
    return env.get_template("etc/nftables.conf.j2").render(**variables)


def open_ports(ruleset: str) -> set[int]:
    match = re.search(r"^\s*tcp dport \{ ([0-9, ]+) \} accept$", ruleset, re.M)
    return {int(p) for p in match.group(1).split(",")} if match else set()


@pytest.mark.control("FW-02")
def test_ports_follow_the_groups():
    assert open_ports(render(["mail_mx", "mail_store"])) == {25, 465, 587, 143, 993}
    assert open_ports(render(["mail_store"])) == {143, 993}  # a store host does not expose 25
    assert open_ports(render(["mail_mx"])) == {25, 465, 587}
    assert open_ports(render(["mail_backup"])) == set()


@pytest.mark.control("FW-03")
def test_ssh_only_from_the_admin_networks_and_restricted_ports_only_from_their_sources():
    ruleset = render(["mail_store"], firewall_admin_networks=["10.10.0.0/24", "2001:db8::/64"],
                     firewall_restricted_rules=[{"ports": [24, 12345], "sources": ["10.20.0.5/32"],
                                                 "comment": "LMTP and SASL from the MX hosts"}])
    assert "elements = { 10.10.0.0/24 }" in ruleset and "elements = { 2001:db8::/64 }" in ruleset
    assert "ip saddr @admin_v4 tcp dport 22 accept" in ruleset
    assert "ip6 saddr @admin_v6 tcp dport 22 accept" in ruleset
    assert "ip saddr { 10.20.0.5/32 } tcp dport { 24, 12345 } accept" in ruleset
    assert not re.search(r"^\s*tcp dport 22 accept", ruleset, re.M)


@pytest.mark.control("FW-01")
def test_default_deny_and_only_our_table_is_replaced():
    ruleset = render(["mail_mx"], firewall_admin_networks=["10.10.0.0/24"])
    assert "flush ruleset" not in ruleset  # fail2ban's table survives a reload
    assert "delete table inet mail_filter" in ruleset
    assert ruleset.count("policy drop;") == 2  # input and forward
    assert "ct state established,related accept" in ruleset
