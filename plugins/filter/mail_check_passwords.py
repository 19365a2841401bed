"""The mail_check_passwords filter: the password policy over every account. The logic is plugins/plugin_utils/passwords.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_check_passwords

DOCUMENTATION = r"""
name: mail_check_passwords
short_description: check every account's plain password against the policy
description:
  - Each account with a C(password) is checked by C(mail_password_policy) with its C(address) as the
    name; accounts given only a C(password_hash) are not checked.
  - The first failing account is named in the error; its password never is.
positional: _input, policy
options:
  _input:
    description: The accounts (C(address), optional C(password)).
    type: list
    elements: dict
    required: true
  policy:
    description: Options of C(mail_password_policy) (C(min_length), C(min_classes), C(weak)); others are an error.
    type: dict
"""

EXAMPLES = r"""
- name: Check every plain password before anything is written
  ansible.builtin.set_fact:
    checked_accounts: "{{ mail_accounts_effective | mail_check_passwords({'min_length': 10, 'min_classes': 3}) }}"
  no_log: true
# fails with, for example: password of 'yeu@gialai.gov.vn' is too weak: fewer than 10 characters
"""

RETURN = r"""
_value:
  description: The accounts, unchanged.
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_check_passwords": mail_check_passwords}
