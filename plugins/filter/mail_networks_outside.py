"""The mail_networks_outside filter: the Internet around some networks. Logic: plugins/plugin_utils/networks.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.networks import mail_networks_outside

DOCUMENTATION = r"""
name: mail_networks_outside
short_description: the fewest CIDR networks that hold every address outside the given ones
description:
  - fail2ban's C(ignoreip) cannot say "everything but these networks"; a jail that counts only the
    failures from some networks (the agencies behind one NAT) ignores what this returns.
  - IPv4 first, then IPv6, each in address order; a family without networks of its own is
    returned whole (C(0.0.0.0/0), C(::/0)).
  - A malformed entry is an error naming it.
positional: _input
options:
  _input:
    description: The networks (addresses or CIDR).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: A jail that counts only the agencies' failures
  ansible.builtin.debug:
    msg: "ignoreip = {{ ['203.0.113.0/25'] | mail_networks_outside | join(' ') }}"
# ['203.0.113.0/25'] -> ['0.0.0.0/1', ..., '203.0.113.128/25', ..., '::/0']
"""

RETURN = r"""
_value:
  description: CIDR networks covering every address not in the input, none overlapping it.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_networks_outside": mail_networks_outside}
