"""The monitor host's scrape targets from the inventory (plugins/plugin_utils/monitoring.py, roles/monitoring)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.monitoring import mail_login_sources, mail_metrics_scrape_configs

EXPORTERS = [{"job": "node", "port": 9100, "roles": ["metrics"]}, {"job": "postfix", "port": 9154, "roles": ["postfix"]}]


def hv(roles, **extra):
    return {"__site_host_roles": roles, **extra}


HOSTVARS = {
    "mx1": hv(["base", "postfix", "metrics"], ansible_facts={"default_ipv4": {"address": "10.0.0.5"}}),
    "store1": hv(["base", "dovecot", "metrics"], ansible_host="10.0.0.6"),
    "backup1": hv(["base", "metrics"], firewall_address=["2001:db8::7", "10.0.0.7"]),
    "old": hv(["base", "postfix"], ansible_host="10.0.0.9"),  # metrics switched off there
    "named": hv(["metrics"], ansible_host="store9.example", metrics_scrape_address="10.0.0.10"),
}


@pytest.mark.control("MON-01")
def test_node_exporter_on_every_metrics_host_and_postfix_where_postfix_runs():
    configs = mail_metrics_scrape_configs(HOSTVARS, ["mx1", "store1", "backup1", "old", "named", "mx1"], EXPORTERS)
    assert configs == [
        {"job_name": "node", "static_configs": [
            {"targets": ["10.0.0.5:9100"], "labels": {"host": "mx1"}},
            {"targets": ["10.0.0.6:9100"], "labels": {"host": "store1"}},
            {"targets": ["[2001:db8::7]:9100"], "labels": {"host": "backup1"}},
            {"targets": ["10.0.0.10:9100"], "labels": {"host": "named"}}]},
        {"job_name": "postfix", "static_configs": [
            {"targets": ["10.0.0.5:9154"], "labels": {"host": "mx1"}},
            {"targets": ["10.0.0.9:9154"], "labels": {"host": "old"}}]},
    ]


def test_a_job_without_hosts_is_left_out():
    assert mail_metrics_scrape_configs(HOSTVARS, ["store1"], EXPORTERS) == [
        {"job_name": "node", "static_configs": [{"targets": ["10.0.0.6:9100"], "labels": {"host": "store1"}}]}]
    assert mail_metrics_scrape_configs(HOSTVARS, [], EXPORTERS) == []


@pytest.mark.parametrize("hostvars, hosts, exporters, error", [
    ({"a": {}}, ["a"], EXPORTERS, "host 'a' is not in this run"),
    ({}, ["gone"], EXPORTERS, "host 'gone' is not in this run"),
    ({"a": hv(["metrics"], ansible_host="a.example")}, ["a"], EXPORTERS, "no address to scrape host 'a'"),
    (HOSTVARS, ["mx1"], [{"job": "node", "port": 0, "roles": ["metrics"]}], "port must be 1-65535, not 0"),
    (HOSTVARS, ["mx1"], [{"job": "node", "port": "x", "roles": ["metrics"]}], "'node': port must be 1-65535"),
    (HOSTVARS, ["mx1"], [{"job": "node", "port": 9100}], "needs a job, a port and roles"),
    (HOSTVARS, ["mx1"], "node", "must be a list"),
])
def test_bad_input_is_named(hostvars, hosts, exporters, error):
    with pytest.raises(AnsibleFilterError, match=error.replace("(", r"\(")):
        mail_metrics_scrape_configs(hostvars, hosts, exporters)


@pytest.mark.control("MON-07")
def test_the_alert_login_sources_are_every_address_of_the_monitor_hosts():
    hostvars = {
        "mon1": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.20"}, "default_ipv6": {"address": "2001:db8::20"}}},
        "mon2": {"ansible_host": "10.0.0.21", "ansible_facts": {"default_ipv4": {"address": "10.0.0.21"}}},
        "mon3": {"firewall_address": "192.0.2.3", "ansible_facts": {"default_ipv4": {"address": "10.9.9.9"}}},
        "mon4": {"firewall_address": ["192.0.2.4", "2001:db8::4"]},
    }
    assert mail_login_sources(hostvars, ["mon1", "mon2", "mon3", "mon4", "mon1"]) == [
        "10.0.0.20", "2001:db8::20", "10.0.0.21", "192.0.2.3", "192.0.2.4", "2001:db8::4"]
    with pytest.raises(AnsibleFilterError, match="alert@x: no host to accept the login from"):
        mail_login_sources(hostvars, [], what="alert@x")


@pytest.mark.control("MON-07")
def test_a_monitor_host_without_an_address_is_named():
    # a host name as ansible_host and no facts (not reached in this run): the login would be refused from it
    with pytest.raises(AnsibleFilterError, match="alert@x: no address for host 'mon9'.*firewall_address"):
        mail_login_sources({"mon9": {"ansible_host": "mon9.example"}}, ["mon9"], what="alert@x")



@pytest.mark.control("MON-01")
def test_a_per_host_port_leaves_out_the_hosts_that_serve_none():
    """Dovecot's own metrics: the port is each host's variable (2.4 hosts 9900, 2.3 hosts 0: not scraped)."""
    hostvars = {
        "store13": hv(["dovecot", "metrics"], ansible_host="10.0.0.13", metrics_dovecot_port="9900"),
        "store12": hv(["dovecot", "metrics"], ansible_host="10.0.0.12", metrics_dovecot_port="0"),
        "mx1": hv(["postfix", "metrics"], ansible_host="10.0.0.5", metrics_dovecot_port="9900"),  # no dovecot role
        "store9": hv(["dovecot", "metrics"], ansible_host="10.0.0.9"),  # unset
    }
    configs = mail_metrics_scrape_configs(hostvars, ["store13", "store12", "mx1", "store9"],
                                          [{"job": "dovecot", "port_var": "metrics_dovecot_port", "roles": ["dovecot"]}])
    assert configs == [{"job_name": "dovecot", "static_configs": [
        {"targets": ["10.0.0.13:9900"], "labels": {"host": "store13"}}]}]
    with pytest.raises(AnsibleFilterError, match="exporter 'dovecot': port must be 1-65535, not 70000"):
        mail_metrics_scrape_configs({"s": hv(["dovecot"], ansible_host="10.0.0.1", metrics_dovecot_port=70000)}, ["s"],
                                    [{"job": "dovecot", "port_var": "metrics_dovecot_port", "roles": ["dovecot"]}])
