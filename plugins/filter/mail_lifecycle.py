"""The mail_lifecycle filter: effective mailbox rights and due actions. The logic is plugins/plugin_utils/lifecycle.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_lifecycle

DOCUMENTATION = r"""
name: mail_lifecycle
short_description: effective mailbox rights and due actions from each account's state
description:
  - For each account returns a mapping C(address), C(state) (as given, default active),
    C(effective_state), C(login), C(receive), C(send), C(action) and C(due) (ISO date or null).
  - "C(active): login, receive and send; action C(keep)."
  - "C(suspended): no login, no send, mail is still received; action C(keep)."
  - "C(departed) (needs C(departed_on)): until the end of the retention period
    (C(departed_on) plus O(retention_months) calendar months, O(leader_retention_months) for
    an account whose C(role) is in O(leader_roles); the day is clamped to the end of the
    month, so 31 August + 6 months is 28 or 29 February) the mailbox still receives but
    cannot log in or send: effective_state C(retained), action C(retain), C(due) the end of
    retention. On or after that day: effective_state C(expired), nothing allowed, action
    C(archive_then_remove), C(due) the end of retention."
  - "A C(departed) account whose C(departed_on) is after O(today) has not left yet: it stays
    fully active (effective_state C(active), action C(keep)) and C(due) is its C(departed_on)."
  - "C(revoked): nothing allowed; action C(disable)."
  - C(mail_lifecycle_changes) keeps only the entries to act on; C(mail_apply_lifecycle) merges the
    result into the accounts.
extends_documentation_fragment:
  - gialai.mail.lifecycle
positional: _input, today, retention_months, leader_retention_months, leader_roles
options:
  _input:
    description: >-
      List of accounts: C(address) (required), C(state) (active, suspended, departed, revoked;
      default active), C(departed_on) (ISO date, required for departed), C(role).
    type: list
    elements: dict
    required: true
notes:
  - Errors name the offending account; an unknown state, a departed account without a valid
    C(departed_on), or two accounts with the same address are errors.
"""

EXAMPLES = r"""
# mail_accounts:
#   - {address: locnv@gialai.gov.vn}
#   - {address: daott@gialai.gov.vn, state: departed, departed_on: "2024-08-31"}
#   - {address: hunglv@gialai.gov.vn, state: departed, departed_on: "2024-08-31", role: director}
lifecycle: "{{ mail_accounts | mail_lifecycle(ansible_facts.date_time.date) }}"
# on 2025-03-01: locnv  -> active, action keep
#                daott  -> expired (6 months ended 2025-02-28), action archive_then_remove, due 2025-02-28
#                hunglv -> retained (director: 12 months), action retain, due 2025-08-31

pending: "{{ mail_accounts | mail_lifecycle_changes('2025-03-01', retention_months=3) }}"

can_login: "{{ lifecycle | selectattr('login') | map(attribute='address') | list }}"
"""

RETURN = r"""
_value:
  description: One mapping per account, in input order.
  type: list
  elements: dict
  contains:
    address:
      description: Lowercase address.
      type: str
    state:
      description: The state as given, lowercased (C(active) when not given).
      type: str
    effective_state:
      description: C(active), C(suspended), C(retained), C(expired) or C(revoked).
      type: str
    login:
      description: May log in (IMAP, POP3, SMTP AUTH).
      type: bool
    receive:
      description: Mail to the address is accepted.
      type: bool
    send:
      description: May send mail.
      type: bool
    action:
      description: C(keep), C(retain), C(archive_then_remove) or C(disable).
      type: str
    due:
      description: ISO date the action is tied to, or null.
      type: str
"""


class FilterModule:
    def filters(self):
        return {"mail_lifecycle": mail_lifecycle}
