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
    description:
      - The catalogues, each the parsed text of one file of C(tests/conformance/controls/).
      - A control names its switches as C(lab_switches), a list of variable names.
    type: list
    elements: list
    required: true
seealso:
  - plugin: gialai.mail.mail_audit_hostvars
    plugin_type: filter
    description: Gives each audited host the value of every switch it sets.
"""

EXAMPLES = r"""
- name: Say which variables the catalogue names as lab switches
  ansible.builtin.debug:
    var: __switches
  vars:
    __controls: "{{ query('ansible.builtin.fileglob', 'tests/conformance/controls/*.yml') }}"
    __switches: "{{ query('ansible.builtin.file', *__controls) | map('from_yaml') | mail_lab_switches }}"
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
