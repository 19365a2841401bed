"""The mail_posting_restricted filter: the aliases whose posting policy the submission policy service
applies. The logic is plugins/plugin_utils/posting.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.posting import mail_posting_restricted

DOCUMENTATION = r"""
name: mail_posting_restricted
short_description: the aliases whose posting policy needs the submission policy service
description:
  - "The address of each alias of O(_input) (the shape of C(postfix_aliases)) whose C(posting) is
    C(members) or C(senders): the submission policy service applies those, so the postfix role
    refuses them while C(postfix_ratelimit_enabled) is off."
  - Aliases with another policy, or none (C(internal)), and entries that are not aliases are passed over.
positional: _input
options:
  _input:
    description: The aliases (C(postfix_aliases)), in order.
    type: list
    elements: dict
    required: true
seealso:
  - plugin: gialai.mail.mail_posting_table
    plugin_type: filter
    description: The table the policy service reads.
"""

EXAMPLES = r"""
# postfix_aliases:
#   - {address: lanhdao@gialai.gov.vn, to: [locnv@gialai.gov.vn], posting: members}
#   - {address: vanthu@gialai.gov.vn, to: [hoatt@gialai.gov.vn]}
# {{ postfix_aliases | mail_posting_restricted }} -> ["lanhdao@gialai.gov.vn"]
"""

RETURN = r"""
_value:
  description: The addresses, in the aliases' order.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_posting_restricted": mail_posting_restricted}
