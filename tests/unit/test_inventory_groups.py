"""tests/helpers/inventory.py: the groups a scenario's tests see for a host.

Session 17's conftests read only `all.children`, but Molecule writes each group at the
top level: every host had no groups, so the audit's webmail checks could not tell a
webmail host. Both shapes are read here, from a file of each shape.
"""

from __future__ import annotations

import yaml

from tests.helpers.inventory import group_map, inventory_groups

MOLECULE_SHAPE = {  # as Molecule 25 writes inventory/ansible_inventory.yml
    "all": {"hosts": {"ed-mail13": {}, "ed-partner13": {}}, "vars": {}},
    "edge": {"hosts": {"ed-mail13": {}, "ed-partner13": {}}, "vars": {}},
    "mail_webmail": {"hosts": {"ed-mail13": {}}, "vars": {}},
    "mail_store": {"hosts": {"ed-mail13": {}}},
    "ungrouped": {"vars": {}},
}
NESTED_SHAPE = {
    "all": {"children": {
        "mail": {"children": {"mail_mx": {"hosts": {"mx1": {}}}, "mail_store": {"hosts": {"store1": {}}}}},
        "mail_webmail": {"hosts": {"store1": {}}},
    }},
}


def _write(tmp_path, data):
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_molecule_writes_groups_at_the_top_level(tmp_path):
    path = _write(tmp_path, MOLECULE_SHAPE)
    assert inventory_groups(path, "ed-mail13") == ("edge", "mail_store", "mail_webmail")
    assert inventory_groups(path, "ed-partner13") == ("edge",)
    assert inventory_groups(path, "unknown") == ()


def test_nested_children_give_their_parents_too(tmp_path):
    path = _write(tmp_path, NESTED_SHAPE)
    assert inventory_groups(path, "store1") == ("mail", "mail_store", "mail_webmail")
    assert group_map(path)["mx1"] == {"mail", "mail_mx"}
