"""The mail_password_hash filter: Dovecot password hash, kept when it still fits. The logic is plugins/plugin_utils/passwords.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_password_hash

DOCUMENTATION = r"""
name: mail_password_hash
short_description: Dovecot password hash, unchanged when the existing one still fits
description:
  - Returns a Dovecot hash C({SCHEME}...) of the password.
  - When O(existing) is a hash (with or without its C({SCHEME}) prefix) of the same password
    in the requested scheme, it is returned as is (a missing prefix is added), so a second
    run changes nothing even though every new hash has a random salt.
    When O(rounds) is given, the cost of O(existing) must also equal it, so raising the cost
    re-hashes every password on the next run.
  - Otherwise a fresh hash with a random salt is returned.
  - "Schemes: C(BLF-CRYPT) (bcrypt with the C($2y$) prefix that Dovecot and libxcrypt accept;
    cost 10 unless O(rounds)), C(SHA512-CRYPT) (C($6$); 5000 rounds unless O(rounds)),
    and C(ARGON2ID) only when passlib has an argon2 backend (argon2-cffi) on the controller
    (time cost 3 unless O(rounds), 64 MiB, one lane as libsodium in Dovecot requires)."
  - SHA512-CRYPT defaults to 5000 rounds, the glibc and C(doveadm pw) default, and not to
    passlib's 656000, because Dovecot verifies the hash on every login that misses its auth
    cache; with thousands of mailboxes and phones that reconnect all day a high round count
    turns into a constant CPU load on the mail server and a slow login for everyone.
  - BLF-CRYPT uses only the first 72 bytes of the UTF-8 password (as Dovecot does).
  - Related filters are C(mail_password_verify), C(mail_password_policy), C(mail_check_passwords)
    and C(mail_passwd_parse).
positional: _input, scheme, existing, rounds, name
options:
  _input:
    description: The password (from the vault).
    type: str
    required: true
  scheme:
    description: Dovecot scheme name.
    type: str
    default: BLF-CRYPT
    choices: [BLF-CRYPT, SHA512-CRYPT, ARGON2ID]
  existing:
    description: The hash now in use (for example from C(mail_passwd_parse)), or nothing.
    type: str
  rounds:
    description: bcrypt cost (4-31), SHA512-CRYPT rounds (1000-999999999) or argon2 time cost.
    type: int
  name:
    description: Account name used in error messages (never the password).
    type: str
notes:
  - Errors never contain the password or a hash.
"""

EXAMPLES = r"""
# keep the hash that is already in /etc/dovecot/users when the password did not change
password_hash: >-
  {{ item.password | mail_password_hash('BLF-CRYPT',
       existing=(current_users | mail_passwd_parse).get(item.address),
       name=item.address) }}

# cheaper hash for a lab
lab_hash: "{{ 'Ch@ngeMe-2024' | mail_password_hash('SHA512-CRYPT') }}"

# policy check before hashing
checked: "{{ item.password | mail_password_policy(min_length=10, name=item.address) }}"

# verify
ok: "{{ 'secret' | mail_password_verify('{BLF-CRYPT}$2y$10$...') }}"
"""

RETURN = r"""
_value:
  description: Dovecot hash with its scheme prefix, for example C({BLF-CRYPT}$2y$10$...).
  type: str
"""


class FilterModule:
    def filters(self):
        return {"mail_password_hash": mail_password_hash}
