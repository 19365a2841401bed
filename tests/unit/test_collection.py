"""The repository as the Ansible collection gialai.mail: layout, imports, documentation, build.

plugins/filter/<name>.py is one documented filter, a thin FilterModule over a function of
plugins/plugin_utils/ (the ansible.utils layout), imported normally through the collection
namespace. The checkout runs as the collection through the committed link in .collections; the
tarball of `ansible-galaxy collection build` installs and runs elsewhere.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap

import pytest
import yaml
from ansible_collections.gialai.mail.plugins.doc_fragments import lifecycle as lifecycle_fragment
from ansible_collections.gialai.mail.plugins.plugin_utils import directory_model, lifecycle, names, posting, validate
from filter_table import UTILS, filter_plugins

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
PURE = sorted((PLUGINS / "plugin_utils").glob("*.py"))
WRAPPERS = sorted((PLUGINS / "filter").glob("*.py"))
BIN = pathlib.Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} not installed")
    return found


def _docs(path: pathlib.Path) -> dict[str, str]:
    return {node.targets[0].id: node.value.value for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("DOCUMENTATION", "EXAMPLES",
                                                                                         "RETURN")}


def _env(tmp_path: pathlib.Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", **extra)
    return env


def test_checkout_is_the_collection_through_the_committed_link():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"], galaxy["version"]) == ("gialai", "mail", "0.1.0")
    link = ROOT / ".collections" / "ansible_collections" / galaxy["namespace"] / galaxy["name"]
    assert link.is_symlink() and os.readlink(link) == "../../.."
    assert link.resolve() == ROOT
    assert names.__file__ == str(link / "plugins" / "plugin_utils" / "names.py")


@pytest.mark.parametrize("path", WRAPPERS, ids=lambda p: p.stem)
def test_every_filter_is_one_documented_thin_wrapper(path):
    docs = _docs(path)
    assert set(docs) == {"DOCUMENTATION", "EXAMPLES", "RETURN"}
    documentation = yaml.safe_load(docs["DOCUMENTATION"])
    yaml.safe_load(docs["EXAMPLES"])
    assert "_value" in yaml.safe_load(docs["RETURN"])
    assert documentation["name"] == path.stem and documentation["short_description"]
    assert documentation["description"] and "_input" in documentation["options"]
    table = filter_plugins()[path.stem].FilterModule().filters()
    assert list(table) == [path.stem], "one filter per file, named as the file"
    func = table[path.stem]
    assert func.__module__.startswith(f"{UTILS}."), "the logic lives in plugins/plugin_utils/"
    # thin: no function of its own besides FilterModule.filters
    defined = [n.name for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)]
    assert defined == ["filters"]


def test_every_filter_over_its_own_function():
    """No filter lost in the split: the 24 of the eight former files (25 with mail_passwd_newly_locked,
    27 with mail_network_problems and mail_networks_outside, 28 with mail_networks_not_within,
    29 with mail_setting_problems, 30 with mail_ratelimit_bad_classes, 31 with mail_firewall_ruleset,
    32 with mail_backup_repositories, 33 with mail_backup_agency_problems, 34 with
    mail_listed_problems; 45 with session 18's eleven that replaced the Jinja loops of site.yml,
    audit.yml, rebuild.yml and the backup_client task files: mail_site_host_roles,
    mail_audit_hosts, mail_lab_switches, mail_audit_hostvars, mail_backup_repository_problems,
    mail_backup_read_contents, mail_backup_archive_results, mail_cli_options, mail_backup_servers,
    mail_dkim_snapshot_files, mail_dkim_keys_add; 46 with mail_backup_restore_target, 47 with
    mail_posting_restricted, 48 with mail_metrics_scrape_configs, 49 with mail_login_sources),
    each its own function."""
    mapped = {func for plugin in filter_plugins().values() for func in plugin.FilterModule().filters().values()}
    assert len(mapped) == len(WRAPPERS) == 49


def test_ansible_doc_reads_every_filter(tmp_path):
    """`ansible-doc -t filter gialai.mail.<name>` (the collection) for every filter."""
    wanted = [f"gialai.mail.{p.stem}" for p in WRAPPERS]
    proc = subprocess.run([_tool("ansible-doc"), "-t", "filter", "--json", *wanted], capture_output=True, text=True,
                          env=_env(tmp_path, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")), cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = json.loads(proc.stdout)
    assert sorted(docs) == sorted(wanted)
    for name, entry in docs.items():
        assert entry["doc"]["name"] == name.rsplit(".", 1)[1] and entry["examples"] and entry["return"], name
    for stem in ("mail_lifecycle", "mail_lifecycle_changes", "mail_apply_lifecycle"):  # the fragment applied
        options = docs[f"gialai.mail.{stem}"]["doc"]["options"]
        assert {"_input", "today", "retention_months", "leader_retention_months", "leader_roles"} <= set(options)
        assert options["retention_months"]["default"] == lifecycle.RETENTION_MONTHS


def test_no_plugin_file_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in PLUGINS.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


@pytest.mark.parametrize("path", PURE + WRAPPERS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_plugins_import_normally_and_only_public_names(path):
    tree = ast.parse(path.read_text())
    text = path.read_text()
    for banned in ("_load_sibling", "importlib", "spec_from_file_location", "sys.path", "__file__"):
        assert banned not in text, f"{path.name} loads code by path ({banned})"
    imported_modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ansible_collections.gialai.mail"):
            assert node.module.startswith(f"{UTILS}."), f"{path.name} imports {node.module}"
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{path.name} imports private names {private} of {node.module}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported_modules.update(a.asname or a.name for a in node.names)
    reach = [f"{n.value.id}.{n.attr}" for n in ast.walk(tree) if isinstance(n, ast.Attribute)
             and isinstance(n.value, ast.Name) and n.value.id in imported_modules and n.attr.startswith("_")]
    assert reach == [], f"{path.name} reaches into private names {reach}"


def test_shared_definitions_are_written_once():
    """STATES, the posting policies, the quota syntax and the DNS label rule: one definition each."""
    assigned: dict[str, list[str]] = {}
    for path in PURE + WRAPPERS:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id.lstrip("_"), []).append(path.stem)
    for name in ("STATES", "POLICIES", "QUOTA_RE", "QUOTA", "LABEL_RE", "LABEL", "RETENTION_MONTHS",
                 "LEADER_RETENTION_MONTHS"):
        assert len(assigned.get(name, [])) <= 1, f"{name} is defined in {assigned[name]}"
    assert directory_model.STATES is lifecycle.STATES
    assert directory_model.POLICIES is posting.POLICIES
    assert directory_model.QUOTA_RE is validate.QUOTA_RE
    pattern_sources = [p.stem for p in PURE if re.search(r"\[a-z0-9-\]\{", p.read_text())]
    assert pattern_sources == ["names"], "one DNS label rule (names.valid_dns_label)"


def test_retention_defaults_live_in_one_place():
    assert (lifecycle.RETENTION_MONTHS, lifecycle.LEADER_RETENTION_MONTHS) == (6, 12)
    for func in (lifecycle.mail_lifecycle, lifecycle.mail_lifecycle_changes, lifecycle.mail_apply_lifecycle):
        params = inspect.signature(func).parameters
        assert params["retention_months"].default is lifecycle.RETENTION_MONTHS
        assert params["leader_retention_months"].default is lifecycle.LEADER_RETENTION_MONTHS
    # the documentation (one fragment, extended by the three filters) states the same numbers
    options = yaml.safe_load(lifecycle_fragment.ModuleDocFragment.DOCUMENTATION)["options"]
    assert options["retention_months"]["default"] == lifecycle.RETENTION_MONTHS
    assert options["leader_retention_months"]["default"] == lifecycle.LEADER_RETENTION_MONTHS
    assert options["leader_roles"]["default"] == list(lifecycle.DEFAULT_LEADER_ROLES)
    for stem in ("mail_lifecycle", "mail_lifecycle_changes", "mail_apply_lifecycle"):
        documentation = yaml.safe_load(_docs(PLUGINS / "filter" / f"{stem}.py")["DOCUMENTATION"])
        assert documentation["extends_documentation_fragment"] == ["gialai.mail.lifecycle"]
        assert "retention_months" not in documentation["options"]
    # null is the default, so a playbook need not write the number again
    accounts = [{"address": "a@gialai.gov.vn", "state": "departed", "departed_on": "2025-01-31"},
                {"address": "b@gialai.gov.vn", "state": "departed", "departed_on": "2025-01-31", "role": "leader"}]
    assert lifecycle.mail_lifecycle(accounts, "2025-08-01", None, None) == lifecycle.mail_lifecycle(
        accounts, "2025-08-01")
    assert [e["due"] for e in lifecycle.mail_lifecycle(accounts, "2025-08-01")] == ["2025-07-31", "2026-01-31"]
    written = re.compile(r"retention_months\s*\|\s*default\(\s*\d")
    offenders = [str(p.relative_to(ROOT)) for top in ("playbooks", "roles") for p in (ROOT / top).rglob("*.y*ml")
                 if written.search(p.read_text())]
    assert offenders == []


PLAY = textwrap.dedent("""\
    - hosts: localhost
      gather_facts: false
      tasks:
        - ansible.builtin.assert:
            that:
              - "('Nguyễn Văn Lộc' | gialai.mail.vn_local_part) == 'locnv'"
              - "(('intermediate' | gialai.mail.tls_profile).min_protocol) == 'TLSv1.2'"
              - "('Nguyễn Văn Lộc' | vn_local_part) == 'locnv'"
              - "([{'address': 'a@gialai.gov.vn'}] | mail_lifecycle_changes('2025-03-01', none, none)) == []"
    """)


def _play(tmp_path: pathlib.Path, env: dict[str, str]) -> None:
    (tmp_path / "play.yml").write_text(PLAY, encoding="utf-8")
    proc = subprocess.run([_tool("ansible-playbook"), "-i", "localhost,", "-c", "local", "play.yml"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "failed=0" in proc.stdout


def test_checkout_runs_from_another_directory(tmp_path):
    """ansible.cfg's collections_path and filter_plugins resolve against the file, not the cwd."""
    _play(tmp_path, _env(tmp_path, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")))


def test_collection_builds_installs_and_runs(tmp_path):
    """The tarball holds the collection (no local state) and runs once installed, as the README says."""
    (tmp_path / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")  # not the checkout's
    env = _env(tmp_path, ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"))
    proc = subprocess.run([_tool("ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tarball = tmp_path / "gialai-mail-0.1.0.tar.gz"
    with tarfile.open(tarball) as tar:
        members = set(tar.getnames())
    for wanted in ("MANIFEST.json", "meta/runtime.yml", "plugins/plugin_utils/names.py",
                   "plugins/plugin_utils/directory.py", "plugins/filter/mail_directory.py",
                   "roles/postfix/tasks/main.yml", "roles/dovecot/meta/argument_specs.yml", "playbooks/site.yml"):
        assert wanted in members, wanted
    leaked = sorted(m for m in members if re.search(
        r"(^|/)(\.venv[^/]*|\.collections|\.git|reports|__pycache__|tls-ca|\.molecule|\.cache)(/|$)", m))
    assert leaked == []

    collections = tmp_path / "collections"
    proc = subprocess.run([_tool("ansible-galaxy"), "collection", "install", "--offline", "-p", str(collections),
                           str(tarball)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    installed = collections / "ansible_collections" / "gialai" / "mail"
    assert (installed / "plugins" / "plugin_utils" / "names.py").is_file()
    _play(tmp_path, dict(env, ANSIBLE_COLLECTIONS_PATH=str(collections),
                         ANSIBLE_FILTER_PLUGINS=str(installed / "plugins" / "filter")))
