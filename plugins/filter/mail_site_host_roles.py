"""The mail_site_host_roles filter: the roles of site.yml's table that run on a host. The logic is
plugins/plugin_utils/site.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.site import mail_site_host_roles

DOCUMENTATION = r"""
name: mail_site_host_roles
short_description: the roles of site.yml's table (role -> groups) that run on a host
description:
  - Reads O(_input), the table C(__site_roles) of C(playbooks/site.yml), one row per role with its
    C(name), its inventory C(groups) and an optional C(enabled) (default true).
  - A role runs on a host when one of its groups is among the host's O(group_names) and its
    C(enabled) is true; the names come back in the table's order, the order of the preflight.
  - A row without a name or without a list of groups stops with an error naming the row.
positional: _input, group_names
options:
  _input:
    description: The table, C([{name, groups, enabled}]).
    type: list
    elements: dict
    required: true
  group_names:
    description: The host's groups (Ansible's C(group_names)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Find the roles this host runs (site.yml's table)
  ansible.builtin.set_fact:
    __site_host_roles: "{{ __site_roles | mail_site_host_roles(group_names) }}"
# [{name: base, groups: [mail_mx, mail_store]}, {name: dovecot, groups: [mail_store]},
#  {name: backup_client, groups: [mail_store], enabled: false}], group_names [mail_store]
#   -> [base, dovecot]
"""

RETURN = r"""
_value:
  description: The names of the roles the host runs, in the table's order.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_site_host_roles": mail_site_host_roles}
