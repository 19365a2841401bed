"""Mailbox lifecycle: what each account may do today, and what to do with it.

Filters in this file (the main one, ``mail_lifecycle``, is documented in
DOCUMENTATION below):

``mail_lifecycle_changes(accounts, today, retention_months=6, leader_retention_months=12, leader_roles=None)``
    The same list as ``mail_lifecycle`` with only the entries whose action
    is not ``keep``: what a run would change, for dry-run reports.

``mail_apply_lifecycle(accounts, today, retention_months=6, leader_retention_months=12, leader_roles=None, passwords=None)``
    Copies of the accounts (all their fields kept) with ``effective_state``,
    ``login``, ``receive``, ``send``, ``action`` and ``due`` merged in: what the
    inventory hands to the postfix and dovecot roles. With ``passwords`` (a
    mapping address -> password, e.g. the vault's), an account that has neither
    ``password`` nor ``password_hash`` takes its password from it: one lookup
    per account instead of one template per account, which is what keeps
    10,000 accounts fast (Ansible re-renders a per-account template on every
    access).
"""

from __future__ import annotations

import calendar
import datetime

from ansible.errors import AnsibleFilterError

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
  - Other filter in this file is C(mail_lifecycle_changes); see the module docstring.
positional: _input, today, retention_months, leader_retention_months, leader_roles
options:
  _input:
    description: >-
      List of accounts: C(address) (required), C(state) (active, suspended, departed, revoked;
      default active), C(departed_on) (ISO date, required for departed), C(role).
    type: list
    elements: dict
    required: true
  today:
    description: The date to evaluate at, an ISO date string (C(YYYY-MM-DD)) or a date.
    type: str
    required: true
  retention_months:
    description: Months a departed account keeps receiving mail.
    type: int
    default: 6
  leader_retention_months:
    description: Months for accounts whose role is in O(leader_roles).
    type: int
    default: 12
  leader_roles:
    description: Roles that get O(leader_retention_months) (compared case-insensitively).
    type: list
    elements: str
    default: [leader, director, deputy_director, head]
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

STATES = ("active", "suspended", "departed", "revoked")
DEFAULT_LEADER_ROLES = ("leader", "director", "deputy_director", "head")


def add_months(day, months):
    """``day`` plus ``months`` calendar months, the day clamped to the month's end."""
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month0 + 1)[1]
    return datetime.date(year, month0 + 1, min(day.day, last))


def _to_date(value):
    """A ``date`` from a date, datetime or ISO date string; None when it is none of those."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _months(option, value):
    if isinstance(value, bool):
        value = None
    try:
        value = int(value)
    except (TypeError, ValueError):
        value = -1
    if value < 0:
        raise AnsibleFilterError(
            f"mail_lifecycle: {option} must be a whole number of months (0 or more)"
        )
    return value


def _entry(address, state, effective, login, receive, send, action, due=None):
    return {
        "address": address,
        "state": state,
        "effective_state": effective,
        "login": login,
        "receive": receive,
        "send": send,
        "action": action,
        "due": due.isoformat() if due else None,
    }


def mail_lifecycle(
    accounts, today, retention_months=6, leader_retention_months=12, leader_roles=None
):
    """Effective rights and due action of each account (see DOCUMENTATION)."""
    today_date = _to_date(today)
    if today_date is None:
        raise AnsibleFilterError(
            f"mail_lifecycle: today '{today}' is not an ISO date (YYYY-MM-DD)"
        )
    retention = _months("retention_months", retention_months)
    leader_retention = _months("leader_retention_months", leader_retention_months)
    if leader_roles is None:
        leader_roles = DEFAULT_LEADER_ROLES
    elif isinstance(leader_roles, str):
        leader_roles = (leader_roles,)
    leaders = {str(role).strip().lower() for role in leader_roles}
    if not isinstance(accounts, (list, tuple)):
        raise AnsibleFilterError(
            f"mail_lifecycle expects a list of accounts, got {type(accounts).__name__}"
        )

    result = []
    seen = set()
    for index, account in enumerate(accounts):
        if not isinstance(account, dict):
            raise AnsibleFilterError(
                f"account #{index + 1} must be a mapping with at least 'address'"
            )
        address = account.get("address")
        if not isinstance(address, str) or not address.strip():
            raise AnsibleFilterError(f"account #{index + 1} has no address")
        address = address.strip().lower()
        if address in seen:
            raise AnsibleFilterError(f"account '{address}' is listed more than once")
        seen.add(address)

        state = account.get("state")
        state = "active" if state in (None, "") else str(state).strip().lower()
        if state not in STATES:
            raise AnsibleFilterError(
                f"account '{address}' has unknown state '{account.get('state')}'; known: {', '.join(STATES)}"
            )

        if state == "active":
            result.append(_entry(address, state, "active", True, True, True, "keep"))
        elif state == "suspended":
            result.append(
                _entry(address, state, "suspended", False, True, False, "keep")
            )
        elif state == "revoked":
            result.append(
                _entry(address, state, "revoked", False, False, False, "disable")
            )
        else:
            raw = account.get("departed_on")
            if raw in (None, ""):
                raise AnsibleFilterError(
                    f"account '{address}' is departed but has no departed_on (YYYY-MM-DD)"
                )
            departed_on = _to_date(raw)
            if departed_on is None:
                raise AnsibleFilterError(
                    f"account '{address}' has a malformed departed_on '{raw}' (want YYYY-MM-DD)"
                )
            role = str(account.get("role") or "").strip().lower()
            months = leader_retention if role in leaders else retention
            retention_end = add_months(departed_on, months)
            if departed_on > today_date:
                result.append(
                    _entry(
                        address, state, "active", True, True, True, "keep", departed_on
                    )
                )
            elif today_date < retention_end:
                result.append(
                    _entry(
                        address,
                        state,
                        "retained",
                        False,
                        True,
                        False,
                        "retain",
                        retention_end,
                    )
                )
            else:
                result.append(
                    _entry(
                        address,
                        state,
                        "expired",
                        False,
                        False,
                        False,
                        "archive_then_remove",
                        retention_end,
                    )
                )
    return result


def mail_lifecycle_changes(
    accounts, today, retention_months=6, leader_retention_months=12, leader_roles=None
):
    """Only the entries of ``mail_lifecycle`` whose action is not ``keep``."""
    return [
        entry
        for entry in mail_lifecycle(
            accounts, today, retention_months, leader_retention_months, leader_roles
        )
        if entry["action"] != "keep"
    ]


def mail_apply_lifecycle(
    accounts, today, retention_months=6, leader_retention_months=12, leader_roles=None, passwords=None
):
    """Copies of ``accounts`` with their lifecycle merged in.

    Each copy keeps every field it had (password included, so the result goes to
    the roles as-is) and gains ``effective_state``, ``login``, ``receive``,
    ``send``, ``action`` and ``due`` from :func:`mail_lifecycle`.
    """
    lifecycle = mail_lifecycle(
        accounts, today, retention_months, leader_retention_months, leader_roles
    )
    if passwords is not None and not isinstance(passwords, dict):
        raise AnsibleFilterError(
            f"mail_apply_lifecycle: passwords must be a mapping address -> password, got {type(passwords).__name__}"
        )
    by_address = {str(k).strip().lower(): v for k, v in (passwords or {}).items()}
    merged = []
    for account, entry in zip(accounts, lifecycle):
        copy = dict(account)  # the address stays as written, so errors name it so
        if by_address and copy.get("password") in (None, "") and copy.get("password_hash") in (None, ""):
            found = by_address.get(str(copy["address"]).strip().lower())
            if found is not None:
                copy["password"] = found
        for key in ("effective_state", "login", "receive", "send", "action", "due"):
            copy[key] = entry[key]
        merged.append(copy)
    return merged


class FilterModule:
    """Mailbox lifecycle filters."""

    def filters(self):
        return {
            "mail_lifecycle": mail_lifecycle,
            "mail_lifecycle_changes": mail_lifecycle_changes,
            "mail_apply_lifecycle": mail_apply_lifecycle,
        }
