"""The mail_apply_lifecycle filter: the accounts with their lifecycle merged in. The logic is plugins/plugin_utils/lifecycle.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_apply_lifecycle

DOCUMENTATION = r"""
name: mail_apply_lifecycle
short_description: copies of the accounts with their lifecycle merged in
description:
  - Each copy keeps every field it had (password included, so the result goes to the roles as-is)
    and gains C(effective_state), C(login), C(receive), C(send), C(action) and C(due) from
    C(mail_lifecycle). This is what the inventory hands to the postfix, dovecot and backup_client roles.
  - With O(passwords), an account that has neither C(password) nor C(password_hash) takes its
    password from it (by address, case-insensitively) - one lookup per account instead of one
    template per account, which is what keeps 10,000 accounts fast.
extends_documentation_fragment:
  - gialai.mail.lifecycle
positional: _input, today, retention_months, leader_retention_months, leader_roles
options:
  _input:
    description: The accounts, as for C(mail_lifecycle); the address stays as written.
    type: list
    elements: dict
    required: true
  passwords:
    description: Mapping address -> password (the vault's C(vault_mail_passwords)).
    type: dict
notes:
  - Errors are those of C(mail_lifecycle); a O(passwords) that is not a mapping is an error too.
"""

EXAMPLES = r"""
mail_accounts_effective: >-
  {{ mail_accounts | mail_apply_lifecycle(mail_lifecycle_date | default(now(utc=true).strftime('%Y-%m-%d')),
     mail_retention_months, mail_leader_retention_months, passwords=vault_mail_passwords) }}
"""

RETURN = r"""
_value:
  description: Copies of the accounts with C(effective_state), C(login), C(receive), C(send), C(action), C(due).
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_apply_lifecycle": mail_apply_lifecycle}
