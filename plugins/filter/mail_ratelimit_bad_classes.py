"""The mail_ratelimit_bad_classes filter: rate-limit classes with a limit that is not a positive integer.
The logic is plugins/plugin_utils/validate.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.validate import mail_ratelimit_bad_classes

DOCUMENTATION = r"""
name: mail_ratelimit_bad_classes
short_description: the rate-limit classes whose messages or recipients is not a positive integer
description:
  - Checks each class's C(messages), then each class's C(recipients), for an integer (a boolean is
    not one; a missing limit or a class that is not a mapping is not one either), then each
    integer C(messages), then each integer C(recipients), for a value above 0.
  - Returns the names of the classes that fail, check after check in the classes' order, so a class
    wrong in both limits is named twice (the order postfix's input check has always listed them in).
positional: _input
options:
  _input:
    description: The classes, name to C({messages, recipients}) (postfix_ratelimit_classes).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the per-login rate limits
  ansible.builtin.assert:
    that: __bad == []
    fail_msg: "messages and recipients must be positive integers (wrong in: {{ __bad }})"
  vars:
    __bad: "{{ postfix_ratelimit_classes | mail_ratelimit_bad_classes }}"
# {'default': {'messages': 0, 'recipients': 'x'}, 'bulk': {'messages': 10, 'recipients': 10}}
#   -> ['default', 'default']
"""

RETURN = r"""
_value:
  description: The names of the bad classes (a name may repeat); empty when every limit is right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_ratelimit_bad_classes": mail_ratelimit_bad_classes}
