"""Documentation of the gialai.mail.checks action (plugins/action/checks.py); it runs on the controller only."""

from __future__ import annotations

DOCUMENTATION = r"""
module: checks
short_description: a role's input checks, in order, in one task
description:
  - Evaluates a list of checks on the controller, one after another, and fails with the message of
    the first check whose conditions are not all true. Each check is what a quiet
    M(ansible.builtin.assert) task would be; one task instead of one per check
    (each task costs the play a fixed time on every run, idle or not).
  - A check's O(checks[].vars), O(checks[].loop) and O(checks[].when) are templated when the check
    is reached, and its O(checks[].msg) only when it fails, so a check may rely on an earlier one
    having passed.
  - Contacts no host; runs the same in check mode.
version_added: 0.1.0
options:
  checks:
    description: The checks, in the order they are evaluated.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: What the check proves (shown as C(check) in a failed result).
        type: str
      that:
        description: Conditions (as in M(ansible.builtin.assert)); all must be true.
        type: raw
        required: true
      msg:
        description: The message when a condition is false; templated then, with the check's variables.
        type: str
        required: true
      when:
        description: Conditions under which the check applies; when one is false the check is skipped.
        type: raw
      vars:
        description: Variables of this check only (templated lazily, like task vars).
        type: dict
      loop:
        description: A list; the conditions are evaluated for each element, as O(checks[].loop_var).
        type: raw
      loop_var:
        description: The name of the loop's element.
        type: str
        default: item
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: all
author:
  - Mail IaC
"""

EXAMPLES = r"""
- name: Check the input of the postfix role
  gialai.mail.checks:
    checks:
      - name: served domains
        that: postfix_domains | length > 0
        msg: postfix_domains needs at least one domain
      - name: aliases
        that: item.to | length > 0
        msg: "alias {{ item.address }} has no targets"
        loop: "{{ postfix_aliases }}"
"""

RETURN = r"""
msg:
  description: The failed check's message, or how many checks passed.
  type: str
  returned: always
check:
  description: The failed check's name (or its position).
  type: str
  returned: failed
assertion:
  description: The condition that was false.
  type: str
  returned: failed
"""
