"""The mail_invalid_addresses filter: the malformed or foreign addresses of a list. The logic is plugins/plugin_utils/validate.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_invalid_addresses

DOCUMENTATION = r"""
name: mail_invalid_addresses
short_description: the entries of a list of addresses that are malformed or outside the given domains
description:
  - Each entry is checked by C(mail_valid_address); with O(domains) an address whose domain is not
    one of them is returned too (domains compared case-insensitively).
  - A single string is a list of one.
positional: _input, domains
options:
  _input:
    description: The addresses.
    type: list
    elements: str
    required: true
  domains:
    description: The allowed domains; when empty, any valid domain is allowed.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Refuse a postmaster outside the served domains
  ansible.builtin.assert:
    that: "[postfix_postmaster] | mail_invalid_addresses(postfix_domains) == []"
"""

RETURN = r"""
_value:
  description: The invalid entries in input order; empty when all are valid.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_invalid_addresses": mail_invalid_addresses}
