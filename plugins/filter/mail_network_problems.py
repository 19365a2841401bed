"""The mail_network_problems filter: malformed or too wide networks. The logic is plugins/plugin_utils/networks.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.networks import mail_network_problems

DOCUMENTATION = r"""
name: mail_network_problems
short_description: problems with a list of networks given as data (e.g. mail_agency_networks)
description:
  - Each entry must be an IPv4 or IPv6 address or a network in CIDR form without host bits set
    (C(10.1.2.3/24) is refused, naming C(10.1.2.0/24)).
  - A network wider than O(min_prefix_v4) / O(min_prefix_v6) is a problem too (prefix lengths
    compared as numbers).
positional: _input, min_prefix_v4, min_prefix_v6
options:
  _input:
    description: The networks.
    type: list
    elements: str
    required: true
  min_prefix_v4:
    description: The widest IPv4 prefix allowed.
    type: int
    default: 16
  min_prefix_v6:
    description: The widest IPv6 prefix allowed.
    type: int
    default: 48
"""

EXAMPLES = r"""
- name: Refuse a malformed agency network, naming it
  ansible.builtin.assert:
    that: fail2ban_agency_networks | mail_network_problems == []
    fail_msg: "{{ fail2ban_agency_networks | mail_network_problems | join('; ') }}"
# ['10.20.0.0/33'] -> ["'10.20.0.0/33' is not an IP address or CIDR network"]
"""

RETURN = r"""
_value:
  description: One message per problem, naming the entry; empty when all are right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_network_problems": mail_network_problems}
