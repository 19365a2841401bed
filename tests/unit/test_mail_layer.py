"""The mail_* layer (playbooks/group_vars/all/mail.yml): one owner for the account
model's derivations and the role bindings, inventories with data only.

Ansible loads the layer for every play of playbooks/ (and of playbooks that import
them); `ansible --playbook-dir playbooks` renders it here without a host.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

from tests.helpers.labdata import inventory_mail, render

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAYER = ROOT / "playbooks" / "group_vars" / "all" / "mail.yml"


def _keys(path: pathlib.Path) -> set[str]:
    return set(yaml.safe_load(path.read_text()) or {})


def test_no_inventory_sets_in_group_vars_all_what_the_layer_sets():
    """The layer outranks an inventory's group_vars/all: a value set there too would be
    silently ignored. Inventories override the layer in group_vars/<group> or host_vars."""
    layer = _keys(LAYER)
    clashes = {}
    for path in sorted([*ROOT.glob("inventories/*/group_vars/all/*.yml"),
                        *ROOT.glob("molecule/*/group_vars/all/*.yml")]):
        if clash := layer & _keys(path):
            clashes[str(path.relative_to(ROOT))] = sorted(clash)
    assert clashes == {}


def test_retention_defaults_are_written_only_in_the_lifecycle_code():
    """6 and 12 months live in plugins/plugin_utils/lifecycle.py; nobody restates them."""
    for path in [LAYER, *ROOT.glob("inventories/*/group_vars/*/*.yml"), *ROOT.glob("molecule/*/group_vars/*/*.yml"),
                 *ROOT.glob("playbooks/**/*.yml")]:
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict):
            assert "mail_retention_months" not in data and "mail_leader_retention_months" not in data, path


def _rendered(inventory: str, host: str) -> dict:
    """The role inputs the layer gives `host` of inventories/<inventory>, rendered by Ansible."""
    expr = ('{{ {"mailboxes": postfix_mailboxes, "grants": postfix_sender_grants, "aliases": postfix_aliases,'
            ' "users": dovecot_users, "agencies": backup_agencies, "archive": backup_archive_addresses} | to_json }}')
    bindir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(
        [str(bindir / "ansible"), "-i", str(ROOT / "inventories" / inventory / "hosts.yml"), host, "-c", "local",
         "--playbook-dir", str(ROOT / "playbooks"), "-m", "ansible.builtin.debug", "-a", f"msg={expr}"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][host]["msg"]
    return json.loads(result) if isinstance(result, str) else result


@pytest.mark.parametrize("inventory, host", [("lab", "lab-mail13"), ("production", "mail.gialai.gov.vn")])
def test_ansible_renders_the_layer_as_the_tests_read_it(inventory, host):
    """What Ansible hands the roles is what tests/helpers/labdata.py gives the tests."""
    got = _rendered(inventory, host)
    want = render(inventory_mail(ROOT / "inventories" / inventory / "group_vars" / "all"))
    receiving = [a for a in want["effective"] if a["receive"]]
    assert got["mailboxes"] == [a["address"] for a in receiving]
    assert got["users"] == receiving
    assert got["aliases"] == want["aliases"]
    assert got["grants"] == {a["address"]: a["senders"] for a in want["effective"] if "senders" in a}
    assert got["archive"] == [a["address"] for a in want["effective"] if a["action"] == "archive_then_remove"]
    assert sorted(got["agencies"]) == sorted(want["agency_parents"])
    assert got["mailboxes"] and got["aliases"]


@pytest.mark.control("WEB-14")
@pytest.mark.parametrize("host, trusted", [("lab-mail13", ["127.0.0.1/32", "::1/128"]), ("lab-mail12", [])])
def test_only_a_webmail_host_trusts_its_loopback_to_name_the_client(host, trusted):
    """Roundcube names the browser's address to Dovecot from loopback; a host without the webmail trusts nobody."""
    bindir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(
        [str(bindir / "ansible"), "-i", str(ROOT / "inventories" / "lab" / "hosts.yml"), host, "-c", "local",
         "--playbook-dir", str(ROOT / "playbooks"), "-m", "ansible.builtin.debug",
         "-a", "msg={{ dovecot_login_trusted_networks | to_json }}"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    got = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"][host]["msg"]
    assert (json.loads(got) if isinstance(got, str) else got) == trusted
