"""The mail_directory_aliases filter: the directory's aliases, minus who cannot receive. The logic is plugins/plugin_utils/directory.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.directory import mail_directory_aliases

DOCUMENTATION = r"""
name: mail_directory_aliases
short_description: the aliases of a directory, keeping only the members that can still receive
description:
  - The C(mail_aliases) list the postfix role consumes, from C(directory.aliases) (unit send-as
    addresses, per-agency and province-wide lists, extra aliases of C(mail_directory)).
  - Every target that is one of the directory's accounts is kept only when it can still receive
    mail in O(effective_accounts) (their C(receive) field). So a revoked or expired person drops
    out of every list, a suspended or retained one stays.
  - Targets outside the directory (a forward to another server) are kept. An alias left with no
    target is omitted (mail to it is then refused as an unknown address). Order, C(senders),
    C(posting) and C(posting_senders) are kept.
positional: _input, effective_accounts
options:
  _input:
    description: The result of C(mail_directory).
    type: dict
    required: true
  effective_accounts:
    description: The accounts of the same directory after C(mail_apply_lifecycle) (each with C(receive)).
    type: list
    elements: dict
    required: true
notes:
  - An account of the directory missing from O(effective_accounts) is an error naming the alias and the account.
"""

EXAMPLES = r"""
mail_aliases: "{{ mail_directory_result | mail_directory_aliases(mail_accounts_effective) }}"
# toantinh@ to [locnv@, hoatt@, locnv2@], minus anyone revoked or expired
"""

RETURN = r"""
_value:
  description: The aliases, each C(address), C(to), C(senders) when there are any, C(posting), C(posting_senders).
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_directory_aliases": mail_directory_aliases}
