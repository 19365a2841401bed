"""The mail_lifecycle_changes filter: the accounts a run would change. The logic is plugins/plugin_utils/lifecycle.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_lifecycle_changes

DOCUMENTATION = r"""
name: mail_lifecycle_changes
short_description: the lifecycle entries whose action is not keep (what a run changes)
description:
  - The same list as C(mail_lifecycle) with only the entries whose C(action) is not C(keep), for
    dry-run reports (the preflight prints it).
extends_documentation_fragment:
  - gialai.mail.lifecycle
positional: _input, today, retention_months, leader_retention_months, leader_roles
options:
  _input:
    description: The accounts, as for C(mail_lifecycle).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
pending: "{{ mail_accounts | mail_lifecycle_changes('2025-03-01', retention_months=3) }}"
"""

RETURN = r"""
_value:
  description: The entries of C(mail_lifecycle) whose action is not C(keep), in input order.
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_lifecycle_changes": mail_lifecycle_changes}
