"""The mail_setting_problems filter: malformed entries of a settings mapping. The logic is plugins/plugin_utils/validate.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_setting_problems

DOCUMENTATION = r"""
name: mail_setting_problems
short_description: problems with a mapping of settings (kernel parameters, login.defs entries)
description:
  - A name must match O(name_pattern); a value must be a number (a boolean is not) or a string
    that matches O(value_pattern).
  - One message per bad entry, naming it, its value (as JSON) and its type, then O(rule).
positional: _input, name_pattern, value_pattern, label, rule
options:
  _input:
    description: The settings, name to value.
    type: dict
    required: true
  name_pattern:
    description: Regular expression a name must match (from its start).
    type: str
    required: true
  value_pattern:
    description: Regular expression a string value must match (from its start).
    type: str
    required: true
  label:
    description: What the messages start with (the variables the settings come from).
    type: str
    required: true
  rule:
    description: What the messages end with (the rule the entry breaks).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check every kernel parameter
  ansible.builtin.assert:
    that: __problems == []
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: "{{ hardening_sysctl | mail_setting_problems('^[a-z0-9_]+([.][a-zA-Z0-9_*-]+)+$',
      '^[A-Za-z0-9 ._:/-]+$', 'hardening_sysctl', 'the name must be dotted') }}"
# {'net.ipv4.tcp_syncookies': [1, 2]} ->
#   ["hardening_sysctl: 'net.ipv4.tcp_syncookies' = [1, 2] (list): the name must be dotted"]
"""

RETURN = r"""
_value:
  description: One message per bad entry; empty when all are right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_setting_problems": mail_setting_problems}
