"""The fields of the accounts and aliases an inventory lists literally (``mail_accounts``,
``mail_aliases``): the one declaration of them, and their check.

``mail_listed_problems`` (documented in ``plugins/filter/mail_listed_problems.py``) is the mail
role's check of them (``roles/mail/tasks/validate.yml``). Each problem names the variable, the
account or alias (its address, else its position) and the field. The types, required fields and
choices are checked by Ansible's own argument spec validator over the declarations below, with
the conversions a role's argument spec allows (a number where text is expected, ``yes`` for a
boolean), so what the argument spec accepted is accepted here; an unknown field is named here
before that, with the account it belongs to (an argument spec names only the variable).

The role's argument spec declares ``mail_accounts`` and ``mail_aliases`` as lists of mappings and
names these fields in their descriptions (``tests/unit/test_mail_listed.py`` keeps them equal).
The aliases' fields are the directory's extra aliases' (``directory_model.ALIAS_KEYS``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.gialai.mail.plugins.plugin_utils.posting import POLICIES

ACCOUNT_FIELDS = {
    "address": {"type": "str", "required": True, "description": "The mailbox address."},
    "name": {"type": "str", "description": "Display name."},
    "password": {"type": "str", "no_log": True, "description": "Plain-text password, from vault (hashed on the store)."},
    "password_hash": {"type": "str", "no_log": True, "description": "An already hashed password instead of password."},
    "quota": {"type": "str", "description": "Mailbox size (500M, 2G, 1T)."},
    "state": {"type": "str", "description": "Lifecycle state (active, suspended, departed, revoked)."},
    "departed_on": {"type": "raw", "description": "The day a departed account left (YYYY-MM-DD)."},
    "role": {"type": "str", "description": "The person's role (leaders get the leader retention)."},
    "agency": {"type": "str", "description": "The agency code (restore of one agency)."},
    "senders": {"type": "list", "elements": "str", "description": "Logins that may send as this address (a unit mailbox)."},
    "shared": {"type": "bool", "description": "A unit mailbox rather than a person's."},
}
ALIAS_FIELDS = {
    "address": {"type": "str", "required": True, "description": "The alias address."},
    "to": {"type": "list", "elements": "str", "required": True, "description": "Its members."},
    "senders": {"type": "list", "elements": "str", "description": "Logins that may send as the alias."},
    "posting": {"type": "str", "choices": list(POLICIES), "description": "Who may post to it."},
    "posting_senders": {"type": "list", "elements": "str", "description": "Who may post when posting is senders."},
}
# variable -> (what one entry is called, its fields)
LISTED = {"mail_accounts": ("account", ACCOUNT_FIELDS), "mail_aliases": ("alias", ALIAS_FIELDS)}


def _spec(fields: dict) -> dict:
    return {name: {k: v for k, v in field.items() if k != "description"} for name, field in fields.items()}


def mail_listed_problems(entries, variable) -> list[str]:
    """Every problem of the listed accounts or aliases ``entries`` (``variable`` is mail_accounts
    or mail_aliases), one message each, in their order; [] when all are right (or ``entries`` is
    not a list: the argument spec says so)."""
    if variable not in LISTED:
        raise ValueError(f"mail_listed_problems: variable must be one of {', '.join(LISTED)}, got {variable!r}")
    kind, fields = LISTED[variable]
    if not isinstance(entries, (list, tuple)):
        return []
    validator = ArgumentSpecValidator(_spec(fields))
    problems = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            problems.append(f"{variable}: {kind} #{index + 1} is not a mapping (address: ...)")
            continue
        address = entry.get("address")
        label = f"'{address}'" if isinstance(address, str) and address.strip() else f"#{index + 1}"
        unknown = sorted(str(key) for key in entry if key not in fields)
        if unknown:
            problems.append(f"{variable}: {kind} {label} has unknown field(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(fields))}")
        known = {key: value for key, value in entry.items() if key in fields}
        for message in validator.validate(known).error_messages:
            problems.append(f"{variable}: {kind} {label}: {message}")
    return problems
