"""The mail_password_verify filter: does a Dovecot hash match the password. The logic is plugins/plugin_utils/passwords.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_password_verify

DOCUMENTATION = r"""
name: mail_password_verify
short_description: true when a Dovecot hash is a hash of the password
description:
  - O(hashed) may carry its C({SCHEME}) prefix or not; the scheme is BLF-CRYPT, SHA512-CRYPT or
    ARGON2ID (when passlib has an argon2 backend).
  - "A malformed hash, an empty one, or one in an unsupported scheme (C({PLAIN}), C({CRYPT}),
    C({SSHA512}) ...) gives false, so that C(when: not ...) leads to a new hash."
positional: _input, hashed
options:
  _input:
    description: The password.
    type: str
    required: true
  hashed:
    description: The hash.
    type: str
    required: true
notes:
  - A password that is not a non-empty string is an error; no message holds the password or the hash.
"""

EXAMPLES = r"""
ok: "{{ 'secret' | mail_password_verify('{BLF-CRYPT}$2y$10$...') }}"
"""

RETURN = r"""
_value:
  description: Whether the hash matches.
  type: bool
"""


class FilterModule:
    def filters(self):
        return {"mail_password_verify": mail_password_verify}
