"""The mail_lab_switches filter: the variables the conformance catalogue names as lab switches. The logic is plugins/plugin_utils/audit.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.audit import mail_lab_switches

DOCUMENTATION = r"""
name: mail_lab_switches
short_description: the variables the conformance catalogue names as lab switches
description:
  - Every name that a control of O(_input) lists under C(lab_switches), each once (letter case
    ignored), sorted. Each catalogue is a parsed C(tests/conformance/controls/*.yml), a list of
    controls; anything in it that is not a control (a mapping) is passed over.
positional: _input
options:
  _input:
    description: The catalogues.
    type: list
    elements: list
    required: true
"""

EXAMPLES = r"""
- name: Run the conformance checks from the controller
  hosts: localhost
  vars:
    audit_lab_switches: >-
      {{ query('ansible.builtin.file', *query('ansible.builtin.fileglob', 'tests/conformance/controls/*.yml'))
         | map('from_yaml') | mail_lab_switches }}
# [[{id: OS-01, lab_switches: [hardening_sysctl_apply]}], [{id: LOG-01, lab_switches: [hardening_auditd_load]}]]
#   -> [hardening_auditd_load, hardening_sysctl_apply]
"""

RETURN = r"""
_value:
  description: The variable names.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_lab_switches": mail_lab_switches}
