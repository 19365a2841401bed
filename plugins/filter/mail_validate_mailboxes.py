"""The mail_validate_mailboxes filter: fail early on a wrong mailbox list. The logic is plugins/plugin_utils/validate.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_validate_mailboxes

DOCUMENTATION = r"""
name: mail_validate_mailboxes
short_description: fail early on a wrong mailbox list
description:
  - Checks every mailbox and fails with one error that names the first offending address and
    lists every problem found. Problems are a malformed address, a domain that is not served,
    an address listed twice (case-insensitively), a mailbox with neither C(password) nor
    C(password_hash), a C(password_hash) without its Dovecot C({SCHEME}) prefix, and a
    C(quota) that is not a size such as 500M or 2G.
  - The served domains are checked too; a malformed one is an error naming it.
  - Returns copies of the mailboxes with C(address) stripped and lowercased.
  - Address and domain rules are those of C(mail_valid_address) and C(mail_valid_domain).
positional: _input, domains
options:
  _input:
    description: List of mappings with at least C(address) and C(password) or C(password_hash).
    type: list
    elements: dict
    required: true
  domains:
    description: The served mail domains.
    type: list
    elements: str
    required: true
notes:
  - Messages never contain a password or a hash.
"""

EXAMPLES = r"""
- name: Check the mailbox list
  ansible.builtin.set_fact:
    mail_mailboxes_checked: "{{ mail_mailboxes | mail_validate_mailboxes(mail_domains) }}"

# fails with, for example:
#   mailbox 'x@example.org' is outside the served domains: gialai.gov.vn
#   mailbox 'a@gialai.gov.vn' has no password: set password (from vault) or password_hash
"""

RETURN = r"""
_value:
  description: Copies of the mailboxes, C(address) lowercased.
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_validate_mailboxes": mail_validate_mailboxes}
