"""The mail_valid_domain filter: is this a mail domain name. The logic is plugins/plugin_utils/names.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.names import mail_valid_domain

DOCUMENTATION = r"""
name: mail_valid_domain
short_description: true when the input is a DNS name with at least one dot
description:
  - Labels of 1-63 characters from C([a-z0-9-]) not starting or ending with C(-); at most 253
    characters; at least one dot; the last label is not all digits (so an IPv4 address is not a
    domain). No trailing dot.
  - Case-insensitive (every filter of this collection stores names lowercased).
  - The same DNS-name rule checks the names of C(mail_dns_records).
positional: _input
options:
  _input:
    description: The name; anything but a string gives false.
    type: raw
    required: true
"""

EXAMPLES = r"""
ok: "{{ 'gialai.gov.vn' | mail_valid_domain }}"  # true
bad: "{{ 'localhost' | mail_valid_domain }}"     # false
"""

RETURN = r"""
_value:
  description: Whether the name is a valid mail domain.
  type: bool
"""


class FilterModule:
    def filters(self):
        return {"mail_valid_domain": mail_valid_domain}
