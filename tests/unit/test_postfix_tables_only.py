"""The postfix role's tables-only mode (write the account tables, leave main.cf and master.cf
alone) is switched by its entry point `accounts` alone, never by an inventory (issue #15).

It is the role's internal ``__postfix_tables_only`` (roles/postfix/vars/main.yml, false), which
tasks/accounts.yml sets true for the tasks it imports. Ansible itself loads site.yml's deploy play
and the `accounts` entry point here, with an inventory that sets both the internal name and the
old input ``postfix_tables_only`` true, and evaluates the `when:` of the task that writes main.cf
and master.cf as the run would for that host: site.yml writes them, the entry point does not.

Ansible runs in a child process: loading plays installs its collection loader, which a test
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

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "postfix"
WRITE_CONFIG = "Write main.cf, master.cf, the postscreen allow-list and the local-recipient refusals"

EVALUATE = textwrap.dedent("""\
    import json, sys
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader()
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.playbook import Playbook
    from ansible.playbook.block import Block
    from ansible.vars.manager import VariableManager

    inventory_path, playbook_path, play_name, task_name = sys.argv[1:5]

    def tasks_of(blocks):
        for b in blocks:
            if isinstance(b, Block):
                for part in (b.block, b.rescue, b.always):
                    yield from tasks_of(part)
            else:
                yield b

    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[inventory_path])
    variables = VariableManager(loader=loader, inventory=inventory)
    plays = Playbook.load(playbook_path, variable_manager=variables, loader=loader).get_plays()
    play = next(p for p in plays if play_name in ("", p.name))
    host = inventory.get_host("mx1")
    found = [t for t in tasks_of(play.compile()) if t.name == task_name]
    out = [t._resolve_conditional(t.when, variables.get_vars(play=play, host=host, task=t)) for t in found]
    print(json.dumps(out))
""")


def _runs(tmp_path: pathlib.Path, host_vars: dict, playbook: pathlib.Path, play: str = "") -> list[bool]:
    """Whether the main.cf task runs on an mail_mx host with these inventory values, in that play."""
    inventory = tmp_path / "hosts.yml"
    # __site_host_roles: what site.yml's first play sets (the roles this host runs).
    inventory.write_text(yaml.safe_dump({"all": {"children": {"mail_mx": {"hosts": {
        "mx1": dict(host_vars, __site_host_roles=["postfix"])}}}}}))
    result = subprocess.run(
        [sys.executable, "-c", EVALUATE, str(inventory), str(playbook), play, WRITE_CONFIG],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")))
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _accounts_entry_point(tmp_path: pathlib.Path) -> pathlib.Path:
    """A play that runs the role's entry point accounts, as playbooks/accounts.yml does."""
    path = tmp_path / "accounts.yml"
    path.write_text(yaml.safe_dump([{"hosts": "mail_mx", "gather_facts": False, "tasks": [
        {"ansible.builtin.import_role": {"name": str(ROLE), "tasks_from": "accounts"}}]}]))
    return path


INVENTORY_SETS = {
    "unset": {},
    "the_internal_name": {"__postfix_tables_only": True},
    "the_old_input": {"postfix_tables_only": True},
    "both": {"__postfix_tables_only": True, "postfix_tables_only": True},
}


@pytest.mark.parametrize("name", list(INVENTORY_SETS))
def test_site_writes_main_cf_whatever_the_inventory_says(tmp_path, name):
    assert _runs(tmp_path, INVENTORY_SETS[name], ROOT / "playbooks" / "site.yml", "Deploy the mail hosts") == [True]


@pytest.mark.parametrize("name", ["unset", "both"])
def test_the_accounts_entry_point_leaves_main_cf_alone(tmp_path, name):
    assert _runs(tmp_path, INVENTORY_SETS[name], _accounts_entry_point(tmp_path)) == [False]


def test_the_mode_is_internal_not_an_input():
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    assert not any("tables_only" in name for spec in specs.values() for name in spec["options"])
    assert yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__postfix_tables_only"] is False
    assert "tables_only" not in (ROLE / "defaults" / "main.yml").read_text()
    # set in one place only: the accounts entry point's import of config.yml
    setters = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "roles").rglob("*.yml"))
               + sorted((ROOT / "playbooks").rglob("*.yml")) + sorted((ROOT / "inventories").rglob("*.yml"))
               + sorted((ROOT / "molecule").rglob("*.yml"))
               if "__postfix_tables_only: true" in p.read_text()]
    assert setters == ["roles/postfix/tasks/accounts.yml"]
