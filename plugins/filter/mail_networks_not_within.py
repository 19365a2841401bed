"""The mail_networks_not_within filter: entries outside some networks. Logic: plugins/plugin_utils/networks.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.networks import mail_networks_not_within

DOCUMENTATION = r"""
name: mail_networks_not_within
short_description: the addresses or networks that no network of a second list holds whole
description:
  - site.yml's preflight refuses a bastion (C(mail_admin_bastions), never banned by fail2ban)
    that lies outside the administrators' networks (C(mail_admin_networks), the only sources the
    firewall admits to SSH), which the run would lock out.
  - An entry is inside when one network of the second list holds all of it (same address family).
  - Entries are returned as given, in their order; a malformed entry of either list is an error naming it.
positional: _input, networks
options:
  _input:
    description: The addresses or CIDR networks to check.
    type: list
    elements: str
    required: true
  networks:
    description: The networks (addresses or CIDR) they must lie in.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse a bastion outside the administrators' networks
  ansible.builtin.assert:
    that: mail_admin_bastions | mail_networks_not_within(mail_admin_networks) == []
# ['10.10.0.10/32', '192.0.2.7'] | mail_networks_not_within(['10.10.0.0/24']) -> ['192.0.2.7']
"""

RETURN = r"""
_value:
  description: The entries of the input that no network holds whole, as given.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_networks_not_within": mail_networks_not_within}
