"""The mail_invalid_domains filter: the malformed domains of a list. The logic is plugins/plugin_utils/validate.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_invalid_domains

DOCUMENTATION = r"""
name: mail_invalid_domains
short_description: the entries of a list of domains that are not valid domain names
description:
  - Each entry is checked by C(mail_valid_domain); the ones that fail are returned in input order.
  - A single string is a list of one.
positional: _input
options:
  _input:
    description: The domains.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse malformed served domains
  ansible.builtin.assert:
    that: mail_domains | mail_invalid_domains == []
    fail_msg: "malformed domains: {{ mail_domains | mail_invalid_domains }}"
"""

RETURN = r"""
_value:
  description: The invalid entries; empty when all are valid.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_invalid_domains": mail_invalid_domains}
