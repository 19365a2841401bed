"""The mail_audit_hosts filter: the hosts the conformance audit reaches. The logic is plugins/plugin_utils/audit.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.audit import mail_audit_hosts

DOCUMENTATION = r"""
name: mail_audit_hosts
short_description: the hosts the conformance audit reaches
description:
  - The hosts of O(_input) whose variables in O(hostvars) hold C(audit_ca), in order, that is the
    hosts the audit's first play reached (it registers the CA certificate of each, skipped on a host
    without a TLS service, such as a backup or monitor host of its own).
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
# [mx1, store1, backup1, dns1], audit_ca read from mx1 and store1, skipped on backup1
# (registered too), dns1 not in the play -> [mx1, store1, backup1]
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
