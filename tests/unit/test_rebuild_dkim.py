"""playbooks/rebuild.yml's DKIM keys from the snapshot over the filters mail_dkim_snapshot_files and
mail_dkim_keys_add (plugins/plugin_utils/dkim.py), which replaced two for-loops in the play.

The loops are kept below (OLD_*) and rendered through Ansible beside the play's own vars (read from
the file): the same files to read and the same keys for every input set.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.dkim import mail_dkim_keys_add, mail_dkim_snapshot_files
from tests.unit.test_backup_repositories import _trusted, template

ROOT = pathlib.Path(__file__).resolve().parents[2]
REBUILD = ROOT / "playbooks" / "rebuild.yml"

# playbooks/rebuild.yml before the filters (session 17).
OLD_FILES = """\
{%- set out = {} -%}
{%- for d, a in dkim_domains | default([]) | product(__rebuild_dkim_algorithms) -%}
{%- if (dkim_private_keys | default({}))[d][a] is not defined -%}
{%- set _ = out.update({__rebuild_dkim_dir ~ '/' ~ d ~ '/' ~ __rebuild_dkim_selectors[a] ~ '.private': [d, a]}) -%}
{%- endif -%}
{%- endfor -%}
{{ out }}"""
OLD_KEYS = """\
{%- set ns = namespace(found=dkim_private_keys | default({})) -%}
{%- for path, text in backup_read_files_content.items() -%}
{%- set ns.found = ns.found | combine({__rebuild_dkim_files[path][0]: {__rebuild_dkim_files[path][1]: text}},
                                        recursive=true) -%}
{%- endfor -%}
{{ ns.found }}"""

DOMAINS = ["gialai.gov.vn", "sotc.gialai.gov.vn", "snv.gialai.gov.vn"]
INPUTS = {
    "lab_rsa_only": {"dkim_domains": DOMAINS[:1], "dkim_selector": "mail2026"},
    "ed25519_too": {"dkim_domains": DOMAINS, "dkim_selector": "s1", "dkim_ed25519_enabled": True},
    "some_from_vault": {"dkim_domains": DOMAINS, "dkim_selector": "s1", "dkim_ed25519_enabled": True,
                        "dkim_private_keys": {"gialai.gov.vn": {"rsa": "VAULT-RSA"},
                                              "sotc.gialai.gov.vn": {"rsa": "V2", "ed25519": "V2E"},
                                              "other.vn": {"rsa": "X"}}},
    "all_from_vault": {"dkim_domains": DOMAINS[:1], "dkim_selector": "s1",
                       "dkim_private_keys": {"gialai.gov.vn": {"rsa": "VAULT-RSA"}}},
    "vault_entry_not_a_mapping": {"dkim_domains": DOMAINS[:2], "dkim_selector": "s1",
                                  "dkim_private_keys": {"gialai.gov.vn": None, "sotc.gialai.gov.vn": "text"}},
    "own_key_dir": {"dkim_domains": DOMAINS[1:], "dkim_selector": "k", "dkim_key_dir": "/srv/dkim"},
    "no_domains": {"dkim_domains": [], "dkim_selector": "s1"},
    "domains_unset": {},
}


def _play() -> dict:
    return next(p for p in yaml.safe_load(REBUILD.read_text())
                if p.get("name") == "Sign with the DKIM keys the DNS already publishes (from the snapshot)")


def _variables(inputs: dict) -> dict:
    return dict(inputs, **_trusted(_play()["vars"]))


@pytest.mark.parametrize("name", list(INPUTS))
def test_the_files_to_read_are_what_the_loop_gave(name):
    variables = _variables(INPUTS[name])
    assert "mail_dkim_snapshot_files" in variables["__rebuild_dkim_files"]
    new = template("{{ __rebuild_dkim_files }}", variables)
    assert new == template(OLD_FILES, variables)
    assert list(new) == list(template(OLD_FILES, variables))  # the same order (read, then warned, in it)


@pytest.mark.parametrize("name", [n for n in INPUTS if n != "domains_unset"])
def test_the_keys_are_what_the_loop_combined(name):
    variables = _variables(INPUTS[name])
    files = template("{{ __rebuild_dkim_files }}", variables)
    task = next(t for t in _play()["tasks"] if t["name"] == "Add them to the keys from vault")
    expression = task["ansible.builtin.set_fact"]["__rebuild_dkim_keys"]
    assert "mail_dkim_keys_add" in expression
    paths = list(files)
    for found in (paths, paths[::2], paths[-1:]):  # every file in the snapshot, some, the last
        scope = dict(variables, backup_read_files_content={p: f"KEY of {p}\n" for p in found})
        assert template(expression, scope) == template(OLD_KEYS, scope)


def test_what_the_filters_give():
    selectors = {"rsa": "s", "ed25519": "se"}
    files = mail_dkim_snapshot_files(["a.vn", "b.vn"], ["rsa", "ed25519"], "/k", selectors, {"a.vn": {"rsa": "R"}})
    assert files == {"/k/a.vn/se.private": ["a.vn", "ed25519"], "/k/b.vn/s.private": ["b.vn", "rsa"],
                     "/k/b.vn/se.private": ["b.vn", "ed25519"]}
    vault = {"a.vn": {"rsa": "R"}}
    keys = mail_dkim_keys_add(vault, files, {"/k/a.vn/se.private": "E", "/k/b.vn/s.private": "B"})
    assert keys == {"a.vn": {"rsa": "R", "ed25519": "E"}, "b.vn": {"rsa": "B"}}
    assert vault == {"a.vn": {"rsa": "R"}}  # the input is not changed
    with pytest.raises(AnsibleFilterError, match="/k/c.vn/s.private is not one of"):
        mail_dkim_keys_add(vault, files, {"/k/c.vn/s.private": "C"})
    with pytest.raises(AnsibleFilterError, match="no DKIM selector for the algorithm 'dsa'"):
        mail_dkim_snapshot_files(["a.vn"], ["dsa"], "/k", selectors, {})
