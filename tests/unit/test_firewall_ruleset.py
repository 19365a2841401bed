"""The nftables ruleset a host gets, by inventory group (roles/firewall/templates)."""

from __future__ import annotations

import pathlib
import re

import jinja2
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "firewall"
# A split deployment: two store hosts (the backup clients), one MX, one backup host.
GROUPS = {"mail_store": ["store1", "store2"], "mail_mx": ["mx1"], "mail_backup": ["backup1"]}
ADDRESSES = {"store1": ["10.30.0.11"], "store2": ["10.30.0.12", "2001:db8:30::12"], "mx1": ["10.30.0.5"],
             "backup1": ["10.30.0.20"]}


def _flatten(value):
    out = []
    for item in value:
        out.extend(_flatten(item) if isinstance(item, (list, tuple)) else [item])
    return out


def render(group_names, **overrides) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ROLE / "templates")), keep_trailing_newline=True,
                             trim_blocks=True)  # as Ansible renders templates
    env.filters["comment"] = lambda text: "# " + text
    env.filters["flatten"] = _flatten
    env.tests["search"] = lambda value, pattern: re.search(pattern, value) is not None  # Ansible's test
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(group_names=group_names, ansible_managed="Ansible managed", groups=GROUPS,
                     __firewall_host_addresses=ADDRESSES)
    variables.update(overrides)
    variables["__firewall_rules"] = role_var("__firewall_rules", variables)
    variables["__firewall_ruleset"] = role_var("__firewall_ruleset", variables)
    return env.get_template("etc/nftables.conf.j2").render(**variables)


def role_var(name: str, variables):
    """The role's variable `name` (vars/main.yml), rendered by Ansible with the host's variables and
    the collection's filters (plugins/filter, as ansible.cfg's filter_plugins)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import filter_loader
    from ansible.template import Templar, trust_as_template

    filter_loader.add_directory(str(ROOT / "plugins" / "filter"))
    expression = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())[name]
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


def open_ports(ruleset: str, proto: str = "tcp") -> set[int]:
    """Ports open to everyone (no source address in the rule)."""
    match = re.search(rf"^\s*{proto} dport \{{ ([0-9, ]+) \}} accept$", ruleset, re.M)
    return {int(p) for p in match.group(1).split(",")} if match else set()


@pytest.mark.control("FW-02")
def test_ports_follow_the_groups():
    assert open_ports(render(["mail_mx", "mail_store"])) == {25, 465, 587, 143, 993, 4190}
    assert open_ports(render(["mail_store"])) == {143, 993, 4190}  # a store host does not expose 25
    assert open_ports(render(["mail_mx"])) == {25, 465, 587}
    assert open_ports(render(["mail_backup"])) == set()  # a backup host opens nothing to everyone
    assert open_ports(render(["mail_mx", "mail_store", "mail_webmail"])) == {25, 465, 587, 143, 993, 4190, 80, 443}


@pytest.mark.control("FW-03")
def test_backup_host_admits_ssh_from_the_store_hosts_and_the_admins_only():
    ruleset = render(["mail_backup"], firewall_admin_networks=["10.10.0.0/24"])
    assert "ip saddr @admin_v4 tcp dport 22 accept" in ruleset
    assert "ip saddr { 10.30.0.11, 10.30.0.12 } tcp dport { 22 } accept" in ruleset
    assert "ip6 saddr { 2001:db8:30::12 } tcp dport { 22 } accept" in ruleset
    assert "10.30.0.5" not in ruleset  # the MX host is not a backup client
    assert not re.search(r"^\s*tcp dport [{ ]*22\b", ruleset, re.M)  # never 22 for everyone
    # a store host in no group, or no store host at all: 22 stays closed to all but the admins
    empty = render(["mail_backup"], groups={"mail_backup": ["backup1"]}, firewall_admin_networks=["10.10.0.0/24"])
    assert "no source address, nothing opened" in empty and "dport { 22 }" not in empty


@pytest.mark.control("FW-03")
def test_ssh_only_from_the_admin_networks_and_extra_rules_only_from_their_sources():
    ruleset = render(["mail_store"], firewall_admin_networks=["10.10.0.0/24", "2001:db8::/64"],
                     firewall_extra_rules=[
                         {"port": [24, 12345], "sources": ["10.20.0.5/32"], "comment": "LMTP and SASL from the MX hosts"},
                         {"port": 10514, "proto": "udp", "source_groups": ["mail_mx"], "comment": "syslog from the MX"},
                         {"port": 8443, "comment": "an extra service"},
                         {"port": 8080, "sources": [], "comment": "nobody"}])
    assert "elements = { 10.10.0.0/24 }" in ruleset and "elements = { 2001:db8::/64 }" in ruleset
    assert "ip saddr @admin_v4 tcp dport 22 accept" in ruleset
    assert "ip6 saddr @admin_v6 tcp dport 22 accept" in ruleset
    assert "# LMTP and SASL from the MX hosts\n\t\tip saddr { 10.20.0.5/32 } tcp dport { 24, 12345 } accept" in ruleset
    assert "ip saddr { 10.30.0.5 } udp dport { 10514 } accept" in ruleset
    assert open_ports(ruleset) == {143, 993, 4190, 8443}
    assert open_ports(ruleset, "udp") == set()
    assert "8080" not in ruleset.replace("# nobody: no source address, nothing opened", "")
    assert not re.search(r"^\s*tcp dport 22 accept", ruleset, re.M)


@pytest.mark.control("FW-01")
def test_default_deny_and_only_our_table_is_replaced():
    ruleset = render(["mail_mx"], firewall_admin_networks=["10.10.0.0/24"])
    assert "flush ruleset" not in ruleset  # fail2ban's table survives a reload
    assert "delete table inet mail_filter" in ruleset
    assert ruleset.count("policy drop;") == 2  # input and forward
    assert "ct state established,related accept" in ruleset


# The split itself (plugins/plugin_utils/firewall.py), imported as the filter imports it.
def test_ruleset_splits_open_ports_from_ports_open_to_sources():
    from ansible_collections.gialai.mail.plugins.plugin_utils.firewall import mail_firewall_ruleset

    rules = [{"port": [25, "587"]}, {"port": [[465], 25]}, {"port": 53, "proto": "udp"},
             {"port": 22, "source_groups": ["mail_store", "absent"], "sources": ["10.1.0.0/24", "2001:DB8:30::12"],
              "comment": "backups"},
             {"port": [24, 12345], "sources": []}]
    got = mail_firewall_ruleset(rules, GROUPS, ADDRESSES)
    assert got["tcp"] == [25, 465, 587] and got["udp"] == [53]
    assert got["restricted"] == [
        {"ports": [22], "proto": "tcp", "sources": ["10.1.0.0/24", "2001:DB8:30::12", "10.30.0.11", "10.30.0.12"],
         "v4": ["10.1.0.0/24", "10.30.0.11", "10.30.0.12"], "v6": ["2001:DB8:30::12"], "comment": "backups"},
        {"ports": [24, 12345], "proto": "tcp", "sources": [], "v4": [], "v6": [], "comment": "restricted"}]
    assert mail_firewall_ruleset([], GROUPS) == {"tcp": [], "udp": [], "restricted": []}


@pytest.mark.parametrize(("rules", "message"), [
    (["25"], "firewall rule '25': not a mapping"),
    ([{"port": "smtp"}], "firewall rule {'port': 'smtp'}: port must be 1-65535 or a list of them"),
    ([{"port": 22, "source_groups": ["mail_store"]}],
     "firewall rule {'port': 22, 'source_groups': ['mail_store']}: no address for host 'store2' of 'mail_store'"),
])
def test_ruleset_names_the_rule_it_cannot_split(rules, message):
    from ansible.errors import AnsibleFilterError
    from ansible_collections.gialai.mail.plugins.plugin_utils.firewall import mail_firewall_ruleset

    with pytest.raises(AnsibleFilterError) as error:
        mail_firewall_ruleset(rules, GROUPS, {"store1": ["10.30.0.11"]})
    assert str(error.value) == message


@pytest.mark.control("MON-04")
def test_the_metrics_role_rules_admit_the_monitor_hosts_only():
    """site.yml hands the metrics role's metrics_firewall_rules to the firewall as firewall_role_rules."""
    groups = dict(GROUPS, mail_monitor=["mx1"])
    rule = {"port": [9100, 9154], "source_groups": ["mail_monitor"], "comment": "metrics exporters"}
    ruleset = render(["mail_store"], groups=groups, firewall_role_rules=[rule])
    assert "ip saddr { 10.30.0.5 } tcp dport { 9100, 9154 } accept" in ruleset
    assert 9100 not in open_ports(ruleset) and 9154 not in open_ports(ruleset)
    # no monitor host in the inventory: the exporters are open to nobody
    nobody = render(["mail_store"], firewall_role_rules=[rule])
    assert "dport { 9100, 9154 }" not in nobody and "no source address, nothing opened" in nobody
