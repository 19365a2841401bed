"""The mail_wide_networks filter: networks too wide to relay without authentication. The logic is plugins/plugin_utils/validate.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_wide_networks

DOCUMENTATION = r"""
name: mail_wide_networks
short_description: problems with the networks that may relay without authentication (Postfix mynetworks)
description:
  - Each entry must be an address or a CIDR network (IPv6 in Postfix's C([addr]/len) form or bare);
    a table reference or anything unparsable is a problem.
  - So is a prefix wider than O(min_prefix_v4) / O(min_prefix_v6), compared as numbers (comparing
    strings let C(0.0.0.0/1) plus C(128.0.0.0/1), the whole Internet, through).
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
    default: 24
  min_prefix_v6:
    description: The widest IPv6 prefix allowed.
    type: int
    default: 64
"""

EXAMPLES = r"""
- name: Refuse a mynetworks that opens the relay
  ansible.builtin.assert:
    that: postfix_mynetworks | mail_wide_networks == []
    fail_msg: "{{ postfix_mynetworks | mail_wide_networks | join('; ') }}"
# ['0.0.0.0/1'] -> ["'0.0.0.0/1' is wider than /24 (2147483648 addresses would relay without authentication)"]
"""

RETURN = r"""
_value:
  description: One message per problem, naming the entry; empty when all are right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_wide_networks": mail_wide_networks}
