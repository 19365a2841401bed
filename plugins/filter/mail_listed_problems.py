"""The mail_listed_problems filter: what is wrong with the accounts or aliases an inventory lists
literally, naming each one. The logic is plugins/plugin_utils/listed.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.listed import mail_listed_problems

DOCUMENTATION = r"""
name: mail_listed_problems
short_description: the problems of the accounts or aliases listed literally (mail_accounts, mail_aliases), each naming its entry
description:
  - Checks each entry of O(_input), the accounts (O(variable) C(mail_accounts)) or the aliases
    (C(mail_aliases)) an inventory lists instead of a directory.
  - "Account fields: C(address) (required), C(name), C(password), C(password_hash), C(quota),
    C(state), C(departed_on), C(role), C(agency), C(senders) (a list), C(shared) (a boolean)."
  - "Alias fields: C(address) and C(to) (a list) required, C(senders), C(posting) (C(internal),
    C(members), C(senders) or C(public)), C(posting_senders)."
  - An entry with a field not among these is a problem naming the entry and the field(s), and
    listing the known fields.
  - Types, required fields and choices are checked by Ansible's argument spec validator, with its
    conversions (a number where text is expected, C(yes) for a boolean); its message follows the
    entry's name. No value is shown but a wrong choice's.
  - An entry is named by its address, or by its position (C(#3)) when it has none. An entry that is
    not a mapping is a problem; O(_input) not being a list gives none (the argument spec says so).
positional: _input, variable
options:
  _input:
    description: The entries (mail_accounts or mail_aliases).
    type: list
    elements: dict
    required: true
  variable:
    description: Which list they are, C(mail_accounts) or C(mail_aliases); it names them in every problem.
    type: str
    choices: [mail_accounts, mail_aliases]
    required: true
"""

EXAMPLES = r"""
- name: Check the fields of each listed account, naming it
  gialai.mail.checks:
    checks:
      - name: Check the fields of each listed account
        that: mail_accounts | mail_listed_problems('mail_accounts') == []
        msg: "{{ mail_accounts | mail_listed_problems('mail_accounts') | join('; ') }}"
# [{address: thuky@gialai.gov.vn, quota_clas: leader}, {name: Ai, shared: maybe}]
# -> ["mail_accounts: account 'thuky@gialai.gov.vn' has unknown field(s) quota_clas; known: address, agency,
#      departed_on, name, password, password_hash, quota, role, senders, shared, state",
#     "mail_accounts: account #2: missing required arguments: address",
#     "mail_accounts: account #2: argument 'shared' is of type str and we were unable to convert to bool: ..."]
"""

RETURN = r"""
_value:
  description: >-
    One message per problem, C(<variable>: <account or alias> <address or #n> ...), in the entries' order.
    Empty when all are right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_listed_problems": mail_listed_problems}
