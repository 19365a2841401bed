"""The mail_posting_table filter: the posting policy of every list and alias. The logic is plugins/plugin_utils/posting.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.posting import mail_posting_table

DOCUMENTATION = r"""
name: mail_posting_table
short_description: the posting policy of every list and alias, expanded
description:
  - "Each alias of O(_input) (the shape of C(postfix_aliases): C(address), C(to), optional C(posting)
    and C(posting_senders)) has a posting policy: C(internal) (the default: only users who logged in
    on submission, never a client on port 25), C(members) (only the list's members: its C(to)
    addresses, nested aliases expanded), C(senders) (only the logins or addresses in
    C(posting_senders)) or C(public) (anyone, port 25 included; opt-in)."
  - "Returns a mapping address -> C(posting) (the alias's own policy), C(size) (the number of
    distinct final addresses it expands to, nested aliases included; the rate limiter counts a post
    as that many recipients) and C(allowed) (the sorted addresses that may post on submission, or
    null when any logged-in user may: the intersection over the alias itself and every C(members)
    or C(senders) alias it reaches, so nesting never widens a list)."
  - Raises an error listing every problem C(mail_posting_problems) finds.
  - The companion filter C(mail_posting_problems) returns the problems as a list of messages
    (empty when the aliases are right) for an assert.
positional: _input
options:
  _input:
    description: The aliases (C(postfix_aliases)).
    type: list
    elements: dict
    required: true
notes:
  - The problems are listed in the documentation of C(mail_posting_problems).
"""

EXAMPLES = r"""
# postfix_aliases:
#   - {address: lanhdao@gialai.gov.vn, to: [locnv@gialai.gov.vn, hoatt@gialai.gov.vn], posting: members}
# {{ postfix_aliases | mail_posting_table }} ->
#   {"lanhdao@gialai.gov.vn": {"posting": "members", "size": 2,
#                              "allowed": ["hoatt@gialai.gov.vn", "locnv@gialai.gov.vn"]}}
"""

RETURN = r"""
_value:
  description: Address -> C(posting), C(size), C(allowed) (see the description).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_posting_table": mail_posting_table}
