"""The mail_audit_hosts filter: the hosts the conformance audit reaches. The logic is plugins/plugin_utils/audit.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.audit import mail_audit_hosts

DOCUMENTATION = r"""
name: mail_audit_hosts
short_description: the hosts the conformance audit reaches
description:
  - The hosts of O(_input) whose variables in O(hostvars) hold C(audit_ca) (the CA certificate the
    audit's first play read from them), in order.
positional: _input, hostvars
extends_documentation_fragment:
  - gialai.mail.hostvars
options:
  _input:
    description: Host names (C(groups['all'])).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Run the conformance checks from the controller
  hosts: localhost
  vars:
    audit_hosts: "{{ groups['all'] | mail_audit_hosts(hostvars) }}"
# [mx1, store1, backup1], audit_ca read from mx1 and store1 -> [mx1, store1]
"""

RETURN = r"""
_value:
  description: The host names.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_audit_hosts": mail_audit_hosts}
