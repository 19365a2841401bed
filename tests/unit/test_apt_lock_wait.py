"""Every apt task waits for dpkg's lock as long as mail_apt_lock_timeout says.

Debian's daily unattended-upgrade holds dpkg's lock while it upgrades; apt's own
60 s wait failed a run that met it (the edge scenario's webmail install, at 06:00
host time). The wait reaches the apt tasks as module_defaults of each play that
runs a role, so a play without it, or an apt task that sets its own, would fall
back to 60 s unnoticed.
"""

from __future__ import annotations

import pathlib
import re

import yaml

from tests.unit.test_role_inputs import _tasks

ROOT = pathlib.Path(__file__).resolve().parents[2]
WAIT = "{{ mail_apt_lock_timeout_effective }}"
RUNS_A_ROLE = re.compile(r"\b(include_role|import_role)\b")


def _plays():
    for path in sorted((ROOT / "playbooks").glob("*.yml")):
        for play in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if "import_playbook" in play or "ansible.builtin.import_playbook" in play:
                continue
            yield path.name, play


def test_every_play_that_runs_a_role_gives_apt_the_wait():
    checked, missing = 0, []
    for name, play in _plays():
        if not (play.get("roles") or RUNS_A_ROLE.search(yaml.safe_dump(play))):
            continue
        checked += 1
        got = (play.get("module_defaults") or {}).get("ansible.builtin.apt", {}).get("lock_timeout")
        if got != WAIT:
            missing.append(f"{name}: {play['name']} ({got!r})")
    assert checked >= 12, checked  # site 5, rebuild 3, accounts 3, restore 1
    assert not missing, missing


def test_no_apt_task_sets_its_own_wait():
    apt_tasks, own = 0, []
    for path in sorted((ROOT / "roles").glob("*/tasks/*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            for args in (task.get("ansible.builtin.apt"), task.get("apt")):
                if isinstance(args, dict):
                    apt_tasks += 1
                    if "lock_timeout" in args:
                        own.append(f"{path.relative_to(ROOT)}: {task.get('name')}")
    assert apt_tasks >= 20, apt_tasks
    assert not own, own


def test_the_layer_waits_ten_minutes_unless_the_inventory_says():
    layer = yaml.safe_load((ROOT / "playbooks" / "group_vars" / "all" / "mail.yml").read_text(encoding="utf-8"))
    assert layer["mail_apt_lock_timeout_effective"] == "{{ mail_apt_lock_timeout | default(600) }}"
