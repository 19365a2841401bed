"""The mail_posting_problems filter: what is wrong with the posting policies. The logic is plugins/plugin_utils/posting.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.posting import mail_posting_problems

DOCUMENTATION = r"""
name: mail_posting_problems
short_description: every problem in the posting policies of a list of aliases
description:
  - "Each alias (the shape of C(postfix_aliases): C(address), C(to), optional C(posting) and
    C(posting_senders)) has a posting policy: C(internal) (the default), C(members), C(senders)
    or C(public); see C(mail_posting_table)."
  - "Problems: a C(posting) outside the four policies; C(senders) without C(posting_senders) or
    with a malformed entry; C(posting_senders) on another policy; a C(public) alias that reaches a
    non-public one (port 25 checks only the address the client names, so that would open the inner
    list to the Internet)."
positional: _input
options:
  _input:
    description: >-
      The aliases to check (C(postfix_aliases)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse wrong posting policies before any host is changed
  ansible.builtin.assert:
    that: postfix_aliases | mail_posting_problems == []
    fail_msg: "{{ postfix_aliases | mail_posting_problems | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One message per problem, naming the alias, in address order; empty when none.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_posting_problems": mail_posting_problems}
