"""The mail_passwd_newly_locked filter: the accounts a passwd-file rewrite locks. The logic is plugins/plugin_utils/passwords.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_passwd_newly_locked

DOCUMENTATION = r"""
name: mail_passwd_newly_locked
short_description: the accounts a rewrite of Dovecot's passwd-file locks
description:
  - "The accounts that could log in with the passwd-file text O(_input) (listed with a hash other
    than O(locked_hash)) and cannot with O(users), the new C(dovecot_users) (absent from it, or
    there with C(login: false))."
  - The dovecot role ends their open sessions with C(doveadm kick); an unchanged file gives an
    empty list, so a re-run kicks nobody.
positional: _input, users, locked_hash
options:
  _input:
    description: The text of the passwd-file before the rewrite (null or empty on a first run).
    type: str
    required: true
  users:
    description: The mailboxes the rewrite writes (dicts with C(address) and optional C(login)).
    type: list
    elements: dict
    required: true
  locked_hash:
    description: The hash the role writes for an account that may not log in.
    type: str
    required: true
"""

EXAMPLES = r"""
kick: "{{ before_text | mail_passwd_newly_locked(dovecot_users, __dovecot_locked_hash) }}"
"""

RETURN = r"""
_value:
  description: The addresses, sorted and in lower case.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_passwd_newly_locked": mail_passwd_newly_locked}
