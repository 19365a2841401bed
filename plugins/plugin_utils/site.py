"""Which roles of playbooks/site.yml's table run on a host.

``mail_site_host_roles`` (documented in ``plugins/filter/mail_site_host_roles.py``) reads the
table ``__site_roles`` (one row per role: ``name``, ``groups``, optional ``enabled``) and the
host's ``group_names``: the preflight checks the input of those roles, the deploy plays run them.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def mail_site_host_roles(table, group_names) -> list[str]:
    """The ``name`` of each row of ``table`` whose ``groups`` share a group with ``group_names`` and
    whose ``enabled`` (default true) is true, in the table's order.

    ``enabled`` counts as Jinja's ``and`` counts it (Python truth: false, 0, '' and an empty list
    are off). A row that is not a mapping with a name and a list of groups stops with an error
    naming the row.
    """
    if not isinstance(table, (list, tuple)):
        raise AnsibleFilterError(f"the site table must be a list of rows, got {type(table).__name__}")
    host_groups = list(group_names or [])
    out = []
    for index, row in enumerate(table):
        if not isinstance(row, Mapping) or not isinstance(row.get("name"), str) or not row.get("name"):
            raise AnsibleFilterError(f"site table row {index} has no name: {row!r}")
        groups = row.get("groups")
        if not isinstance(groups, (list, tuple)):
            raise AnsibleFilterError(f"site table row {row['name']}: groups must be a list, got {groups!r}")
        if any(group in host_groups for group in groups) and row.get("enabled", True):
            out.append(row["name"])
    return out
