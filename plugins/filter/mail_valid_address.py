"""The mail_valid_address filter: is this a mail address. The logic is plugins/plugin_utils/names.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.names import mail_valid_address

DOCUMENTATION = r"""
name: mail_valid_address
short_description: true when the input is local@domain with an ASCII local part and a valid domain
description:
  - The local part is C([a-z0-9._+-]), at most 64 characters, no leading, trailing or doubled dot.
  - The domain follows C(mail_valid_domain).
  - Mixed case is accepted; every filter of this collection stores addresses lowercased.
positional: _input
options:
  _input:
    description: >-
      The address; anything but a string gives false.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a malformed forwarding address before any host is changed
  ansible.builtin.assert:
    that: forward_to | mail_valid_address
    fail_msg: "'{{ forward_to }}' is not a mail address"
# 'locnv@gialai.gov.vn' -> true; 'a..b@gialai.gov.vn', 'Nguyễn@gialai.gov.vn', 'no-at-sign' -> false
"""

RETURN = r"""
_value:
  description: Whether the address is valid.
  type: bool
"""


class FilterModule:
    def filters(self):
        return {"mail_valid_address": mail_valid_address}
