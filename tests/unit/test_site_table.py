"""site.yml's table of role -> groups (``__site_roles``) read by the filter mail_site_host_roles
(plugins/plugin_utils/site.py), which replaced a for-loop in the preflight play (session 17's
``__site_host_roles``).

The loop is kept below (OLD_HOST_ROLES) and rendered through Ansible beside the expression site.yml
now holds, over site.yml's own table, for every combination of the five inventory groups, with
backups on, off and unset: the same roles in the same order, and the same rows for the preflight's
loop over them.
"""

from __future__ import annotations

import itertools
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.site import mail_site_host_roles
from tests.unit.test_backup_repositories import _trusted, template

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = ROOT / "playbooks" / "site.yml"
GROUPS = ["mail_mx", "mail_store", "mail_av", "mail_backup", "mail_webmail"]

# playbooks/site.yml's preflight before the filter (session 17).
OLD_HOST_ROLES = """\
{%- set out = [] -%}
{%- for row in __site_roles if row.groups | intersect(group_names) and row.enabled | default(true) -%}
{%- set _ = out.append(row.name) -%}
{%- endfor -%}
{{ out }}"""


def _preflight() -> dict:
    return yaml.safe_load(SITE.read_text())[0]


def _site_roles() -> list:
    return _preflight()["vars"]["__site_roles"]


def _tasks() -> dict:
    return {t["name"]: t for t in _preflight()["tasks"]}


GROUP_SETS = [list(c) for n in range(len(GROUPS) + 1) for c in itertools.combinations(GROUPS, n)]
# backup_enabled unset, on, off, and the string an -e on the command line gives (truthy, as before)
BACKUPS = {"unset": {}, "on": {"backup_enabled": True}, "off": {"backup_enabled": False},
           "extra_var_string": {"backup_enabled": "false"}}


@pytest.mark.parametrize("backups", list(BACKUPS))
@pytest.mark.parametrize("groups", GROUP_SETS, ids=lambda g: "+".join(g) or "none")
def test_the_filter_gives_what_the_loop_gave(groups, backups):
    expression = _tasks()["Find the roles this host runs (site.yml's table)"]["ansible.builtin.set_fact"][
        "__site_host_roles"]
    assert "mail_site_host_roles" in expression
    variables = dict(BACKUPS[backups], __site_roles=_trusted(_site_roles()), group_names=groups)
    new = template(expression, variables)
    assert new == template(OLD_HOST_ROLES, variables)
    # the preflight's loop over the rows of those roles (its own when: skips validate: false)
    check = _tasks()["Check the input of each role this host runs"]
    rows = template(check["loop"], dict(variables, __site_host_roles=new))
    assert [r["name"] for r in rows] == new


def test_what_the_filter_gives():
    table = _site_roles()
    assert mail_site_host_roles(table, []) == []
    assert mail_site_host_roles(table, ["mail_backup"]) == [
        "mail", "base", "hardening", "ssh", "fail2ban", "firewall", "backup_server", "metrics"]
    store = ["mail", "base", "tls", "hardening", "ssh", "fail2ban", "firewall", "backup_client", "dovecot",
             "metrics"]
    assert mail_site_host_roles(table, ["mail_store"]) == store
    # the table's enabled is a template; as the play templates it with backups off:
    off = [dict(row, enabled=False) if row["name"] == "backup_client" else row for row in table]
    assert mail_site_host_roles(off, ["mail_store"]) == [r for r in store if r != "backup_client"]
    # the metrics role's enabled, as the play templates it without a monitor host in the inventory
    bare = [dict(row, enabled=False) if row["name"] == "metrics" else row for row in table]
    assert "metrics" not in mail_site_host_roles(bare, ["mail_store"])
    # a monitor host of its own is hardened like every host, and runs no mail role
    assert mail_site_host_roles(table, ["mail_monitor"]) == [
        "mail", "base", "hardening", "ssh", "fail2ban", "firewall", "monitoring"]
    store = mail_site_host_roles([{"name": "a", "groups": ["mail_store"]},
                                  {"name": "b", "groups": ["mail_store"], "enabled": False},
                                  {"name": "c", "groups": ["mail_mx"]},
                                  {"name": "d", "groups": ["mail_mx", "mail_store"], "enabled": "yes"}],
                                 ["mail_store"])
    assert store == ["a", "d"]


@pytest.mark.parametrize("table, error", [
    ("not a table", "must be a list"),
    ([{"groups": ["mail_mx"]}], "row 0 has no name"),
    ([{"name": "postfix"}], "site table row postfix: groups must be a list"),
    ([{"name": "postfix", "groups": "mail_mx"}], "groups must be a list"),
])
def test_a_broken_table_is_named(table, error):
    with pytest.raises(AnsibleFilterError, match=error):
        mail_site_host_roles(table, ["mail_mx"])
