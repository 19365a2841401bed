"""The mail_password_policy filter: the password, or an error naming every broken rule. The logic is plugins/plugin_utils/passwords.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_password_policy

DOCUMENTATION = r"""
name: mail_password_policy
short_description: the password unchanged when it passes the policy, else an error listing every broken rule
description:
  - At least O(min_length) characters (counted after NFC normalisation, so a Vietnamese letter is
    one character however it was typed).
  - At least O(min_classes) of the four character classes lowercase, uppercase, digits, symbols.
    Letters with diacritics count by their case (C(ộ) is lowercase, C(Đ) uppercase); anything that
    is neither a cased letter nor a digit counts as a symbol.
  - Not one of the known-weak passwords (a built-in list plus O(weak); compared case-insensitively).
  - Does not contain the local part of O(name) (case-insensitive; only when that local part has 3
    characters or more). No leading or trailing whitespace and no control characters.
positional: _input, min_length, min_classes, weak, name
options:
  _input:
    description: The password.
    type: str
    required: true
  min_length:
    description: Minimum length (1-4096).
    type: int
    default: 8
  min_classes:
    description: Minimum number of character classes (1-4).
    type: int
    default: 3
  weak:
    description: More known-weak passwords.
    type: list
    elements: str
  name:
    description: The account, named in the error (never the password).
    type: str
notes:
  - "The error reads, for example: password of 'locnv@gialai.gov.vn' is too weak: fewer than 8 characters."
"""

EXAMPLES = r"""
checked: "{{ item.password | mail_password_policy(min_length=10, name=item.address) }}"
"""

RETURN = r"""
_value:
  description: The password, unchanged.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"mail_password_policy": mail_password_policy}
