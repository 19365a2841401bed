"""Mailbox lifecycle: what each account may do today, and what to do with it.

The retention defaults live here and nowhere else: ``RETENTION_MONTHS`` (6)
and ``LEADER_RETENTION_MONTHS`` (12). A ``retention_months`` or
``leader_retention_months`` of None means that default, so a playbook passes
``mail_retention_months | default(none)`` instead of writing the number again.
``STATES`` is the one list of account states (also used by ``directory_model.py``).

``mail_lifecycle(accounts, today, retention_months=6, leader_retention_months=12, leader_roles=None)``
    Effective rights and the due action of each account (documented in
    ``plugins/filter/mail_lifecycle.py``).

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


STATES = ("active", "suspended", "departed", "revoked")
RETENTION_MONTHS = 6
LEADER_RETENTION_MONTHS = 12
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


def _months(option, value, default):
    if value is None:
        return default
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
    accounts, today, retention_months=RETENTION_MONTHS, leader_retention_months=LEADER_RETENTION_MONTHS,
    leader_roles=None,
):
    """Effective rights and due action of each account (see plugins/filter/)."""
    today_date = _to_date(today)
    if today_date is None:
        raise AnsibleFilterError(
            f"mail_lifecycle: today '{today}' is not an ISO date (YYYY-MM-DD)"
        )
    retention = _months("retention_months", retention_months, RETENTION_MONTHS)
    leader_retention = _months("leader_retention_months", leader_retention_months, LEADER_RETENTION_MONTHS)
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
    accounts, today, retention_months=RETENTION_MONTHS, leader_retention_months=LEADER_RETENTION_MONTHS,
    leader_roles=None,
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
    accounts, today, retention_months=RETENTION_MONTHS, leader_retention_months=LEADER_RETENTION_MONTHS,
    leader_roles=None, passwords=None,
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
