"""Run playbooks/site.yml (or another playbook) with the lab data plus one bad variable.

The inventory's only host is unreachable (an SSH port on loopback that nothing
listens on): input checks run on the controller, so a bad variable must stop the
run there, before any host is contacted. A check that let bad input through
would surface as UNREACHABLE instead of the expected message.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MAIL_CONFORMANCE_RUN", "preflight")

from tests.conformance.plugin import *  # noqa: E402,F401,F403  (conformance report, control marker)


@pytest.fixture
def run_site(tmp_path):
    def run(extra: dict | None = None, mail_overrides: dict | None = None,
            inventory: str = "lab", playbook: str = "site.yml",
            groups: tuple[str, ...] = ("mail_mx", "mail_store"),
            extra_hosts: dict[str, list[str]] | None = None,
            mail_unset: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        inv = tmp_path / "inventory"
        shutil.copytree(ROOT / "inventories" / inventory / "group_vars", inv / "group_vars")
        if mail_unset:
            # Data the inventory leaves out: removed from its group_vars/all/mail.yml.
            path = inv / "group_vars" / "all" / "mail.yml"
            data = yaml.safe_load(path.read_text())
            assert set(mail_unset) <= set(data), f"{mail_unset} not all in {path.name}"
            path.write_text(yaml.safe_dump({k: v for k, v in data.items() if k not in mail_unset},
                                           allow_unicode=True))
        if mail_overrides:
            # Data in the inventory's group_vars/all; a value the mail_* layer binds
            # (playbooks/group_vars/all/mail.yml, which outranks an inventory's
            # group_vars/all) where an inventory overrides it: the host's host_vars.
            layer = yaml.safe_load((ROOT / "playbooks" / "group_vars" / "all" / "mail.yml").read_text())
            path = inv / "group_vars" / "all" / "mail.yml"
            data = yaml.safe_load(path.read_text())
            data.update({k: v for k, v in mail_overrides.items() if k not in layer})
            path.write_text(yaml.safe_dump(data, allow_unicode=True))
            bound = {k: v for k, v in mail_overrides.items() if k in layer}
            if bound:
                (inv / "host_vars").mkdir()
                (inv / "host_vars" / "mail.gialai.gov.vn.yml").write_text(yaml.safe_dump(bound, allow_unicode=True))
        children = {group: {"hosts": {"mail.gialai.gov.vn": None}} for group in groups}
        for group, names in (extra_hosts or {}).items():
            children.setdefault(group, {"hosts": {}})["hosts"].update(dict.fromkeys(names))
        (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {
            "children": children,
            "vars": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 9,
                     "ansible_user": "mailadmin",
                     "ansible_ssh_common_args": "-o ConnectTimeout=3"},
        }}))
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0")
        cmd = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inv / "hosts.yml"),
               str(ROOT / "playbooks" / playbook)]
        if extra:
            cmd += ["-e", json.dumps(extra)]
        # The bound is for a hang only: `make test` runs preflight in the idle
        # scheduling class, where a case waits while the scenarios use the CPU.
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)

    return run
