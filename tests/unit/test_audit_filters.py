"""playbooks/audit.yml over the filters mail_audit_hosts, mail_lab_switches and mail_audit_hostvars
(plugins/plugin_utils/audit.py), which replaced a chain and two for-loops in its controller play.

Ansible itself builds the run's hostvars from an inventory of five hosts (ssh, paramiko and podman
connections; an address given, taken from ansible_host, or from the facts; names from mail_hostname,
tls_hostname or the host; values that are templates; lab switches set and not), with the first
play's results (audit_ca) and facts on some, and renders the old expressions (OLD_*) beside those
audit.yml now holds (read from the file): the same hosts, the same switches (of this repository's
catalogue and of a made-up one) and the same MAIL_AUDIT_HOSTVARS text, byte for byte.

Ansible runs in a child process: building hostvars installs its collection loader, which a test
process shared with other tests should not get.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.audit import (mail_audit_hosts, mail_audit_hostvars,
                                                                     mail_lab_switches)

ROOT = pathlib.Path(__file__).resolve().parents[2]
AUDIT = ROOT / "playbooks" / "audit.yml"

# playbooks/audit.yml before the filters (session 17).
OLD = {
    "audit_hosts": """\
{{ groups['all'] | map('extract', hostvars) | selectattr('audit_ca', 'defined')
   | map(attribute='inventory_hostname') | list }}""",
    "audit_lab_switches": """\
{%- set names = [] -%}
{%- for path in query('ansible.builtin.fileglob', audit_root ~ '/tests/conformance/controls/*.yml') -%}
{%-   for control in lookup('ansible.builtin.file', path) | from_yaml -%}
{%-     set _ = names.extend(control.lab_switches | default([])) -%}
{%-   endfor -%}
{%- endfor -%}
{{ names | unique | sort }}""",
    "MAIL_AUDIT_HOSTVARS": """\
{%- set out = {} -%}
{%- for h in audit_hosts -%}
{%- set hv = hostvars[h] -%}
{%- set conn = hv.ansible_connection | default('ssh') -%}
{%- set switches = {} -%}
{%- for name in audit_lab_switches if name in hv -%}
{%-   set _ = switches.update({name: hv[name]}) -%}
{%- endfor -%}
{%- set _ = out.update({h: {
      'connection': conn,
      'container': hv.ansible_host | default(h),
      'inventory': ansible_inventory_sources[0],
      'address': hv.mail_audit_address
                 | default(hv.ansible_host | default(h) if conn in ['ssh', 'paramiko', 'smart']
                           else hv.ansible_facts.default_ipv4.address),
      'hostname': hv.mail_hostname | default(hv.tls_hostname | default(h)),
      'domains': hv.mail_domains | default(hv.postfix_domains | default([])),
      'cafile': audit_tmp.path ~ '/' ~ h ~ '.pem',
      'tls_key_file': hv.tls_key_file,
      'groups': hv.group_names | default([]),
      'switches': switches}}) -%}
{%- endfor -%}
{{ out | to_json }}""",
}

KEY = "/etc/ssl/gialai/mail.key"
INVENTORY = {"all": {
    "vars": {"tls_key_file": KEY, "mail_domains": ["gialai.gov.vn"]},
    "children": {
        "mail_mx": {"hosts": {
            "mx1": {"ansible_host": "10.0.0.5", "mail_hostname": "mail.{{ mail_domains[0] }}",
                    "hardening_sysctl_apply": False, "clamav_freshclam_enabled": False},
            "mx2": {"ansible_connection": "paramiko", "mail_domains": [], "tls_hostname": "mx2.gialai.gov.vn"}}},
        "mail_store": {"hosts": {
            "store1": {"ansible_connection": "containers.podman.podman", "ansible_host": "st-store1",
                       "tls_hostname": "imap.gialai.gov.vn", "postfix_domains": ["sotc.gialai.gov.vn"],
                       "hardening_sysctl_apply": "{{ 1 == 2 }}"},
            "mx1": {}}},
        "mail_webmail": {"hosts": {
            "web1": {"ansible_connection": "containers.podman.podman", "mail_audit_address": "10.89.0.99",
                     "ansible_host": "st-web1"}}},
        "mail_backup": {"hosts": {"bk1": {"ansible_host": "10.0.0.9"}}},
    }}}
# what the first play leaves: the CA read from the mx and store hosts, facts where it gathered them
AUDITED = ["mx1", "mx2", "store1", "web1"]
FACTS = {"store1": {"default_ipv4": {"address": "10.89.0.7"}}, "web1": {"default_ipv4": {"address": "10.89.0.8"}}}

RENDER = textwrap.dedent("""\
    import json, sys
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader()
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    from ansible.vars.hostvars import HostVars
    from ansible.vars.manager import VariableManager

    inventory_path, spec = sys.argv[1], json.loads(sys.argv[2])
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[inventory_path])
    variables = VariableManager(loader=loader, inventory=inventory)
    HostVars(inventory=inventory, variable_manager=variables, loader=loader)  # as the strategy builds it
    for host in spec["audited"]:
        variables.set_nonpersistent_facts(host, {"audit_ca": {"content": "Q0EK"}})
    for host, facts in spec["facts"].items():
        variables.set_host_facts(host, facts)
    scope = variables.get_vars(host=inventory.get_host("localhost"), include_hostvars=True)
    scope.update(spec["vars"])
    scope["ansible_inventory_sources"] = [inventory_path]
    out = {}
    for name, expressions in spec["render"].items():
        for kind, text in expressions.items():
            templar = Templar(loader=loader, variables=scope)
            value = templar.template(trust_as_template(text))
            out.setdefault(name, {})[kind] = value
            scope[name] = value  # the next expressions read it (audit_hosts, then the switches)
    print(json.dumps(out))
""")


def _play() -> dict:
    return yaml.safe_load(AUDIT.read_text())[1]


def _new() -> dict:
    play = _play()
    task = next(t for t in play["tasks"] if t["name"] == "Run the audit tests")
    return {"audit_hosts": play["vars"]["audit_hosts"], "audit_lab_switches": play["vars"]["audit_lab_switches"],
            "MAIL_AUDIT_HOSTVARS": task["environment"]["MAIL_AUDIT_HOSTVARS"]}


def _render(tmp_path: pathlib.Path, audit_root: pathlib.Path, inventory: dict, audited, facts) -> dict:
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(inventory))
    render = {name: {"old": OLD[name], "new": new} for name, new in _new().items()}
    spec = {"audited": audited, "facts": facts, "render": render,
            "vars": {"audit_root": str(audit_root), "audit_tmp": {"path": "/tmp/mail-audit-x"},
                     "playbook_dir": str(audit_root / "playbooks")}}
    result = subprocess.run([sys.executable, "-c", RENDER, str(path), json.dumps(spec)], capture_output=True,
                            text=True, cwd=ROOT, timeout=300, env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _made_up_catalogue(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "root"
    controls = root / "tests" / "conformance" / "controls"
    controls.mkdir(parents=True)
    (controls / "a.yml").write_text(yaml.safe_dump([
        {"id": "X-01", "lab_switches": ["zeta_switch", "Alpha_switch"]},
        {"id": "X-02"},
        {"id": "X-03", "lab_switches": ["alpha_switch", "mid_switch", "zeta_switch"]},
        "not a control"]))
    (controls / "b.yml").write_text(yaml.safe_dump([{"id": "Y-01", "lab_switches": []},
                                                    {"id": "Y-02", "lab_switches": ["beta"]}]))
    (controls / "c.yml").write_text(yaml.safe_dump({"id": "Z-01", "lab_switches": ["ignored_mapping_file"]}))
    return root


@pytest.mark.parametrize("catalogue", ["repository", "made_up"])
def test_the_audit_hands_the_checks_what_the_loops_did(tmp_path, catalogue):
    root = ROOT if catalogue == "repository" else _made_up_catalogue(tmp_path)
    out = _render(tmp_path, root, INVENTORY, AUDITED, FACTS)
    for name, rendered in out.items():
        assert rendered["new"] == rendered["old"], name
    assert out["audit_hosts"]["new"] == AUDITED
    if catalogue == "made_up":
        assert out["audit_lab_switches"]["new"] == ["Alpha_switch", "beta", "mid_switch", "zeta_switch"]
    else:
        assert {"hardening_sysctl_apply", "clamav_freshclam_enabled"} <= set(out["audit_lab_switches"]["new"])
        hostvars = json.loads(out["MAIL_AUDIT_HOSTVARS"]["new"])
        assert hostvars["mx1"]["hostname"] == "mail.gialai.gov.vn" and hostvars["mx1"]["address"] == "10.0.0.5"
        assert hostvars["mx1"]["switches"] == {"clamav_freshclam_enabled": False, "hardening_sysctl_apply": False}
        assert hostvars["store1"]["address"] == "10.89.0.7" and hostvars["store1"]["switches"] == {
            "hardening_sysctl_apply": False}
        assert hostvars["web1"]["address"] == "10.89.0.99" and hostvars["mx2"]["address"] == "mx2"


def test_fewer_hosts_audited(tmp_path):
    out = _render(tmp_path, ROOT, INVENTORY, ["store1"], {"store1": FACTS["store1"]})
    for name, rendered in out.items():
        assert rendered["new"] == rendered["old"], name
    assert out["audit_hosts"]["new"] == ["store1"]


def test_what_the_filters_say():
    # a backup or monitor host of its own: the first play skipped its CA (no TLS service), and is audited
    assert mail_audit_hosts(["mx1", "backup1", "dns1"], {"mx1": {"audit_ca": {"content": "LS0t"}},
                                                          "backup1": {"audit_ca": {"skipped": True}},
                                                          "dns1": {}}) == ["mx1", "backup1"]
    assert mail_lab_switches([[{"lab_switches": ["b", "A", "a"]}], None, [{"id": 1}]]) == ["A", "b"]
    with pytest.raises(AnsibleFilterError, match="no address for store1: set mail_audit_address"):
        mail_audit_hostvars(["store1"], {"store1": {"ansible_connection": "podman", "tls_key_file": KEY}}, [],
                            "hosts.yml", "/tmp")
    with pytest.raises(AnsibleFilterError, match="mx1 has no tls_key_file"):
        mail_audit_hostvars(["mx1"], {"mx1": {}}, [], "hosts.yml", "/tmp")
