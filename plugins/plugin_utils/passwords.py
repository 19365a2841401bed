"""Dovecot password hashes, password policy and passwd-file parsing.

Each function is the filter of the same name (documented in ``plugins/filter/<name>.py``):

``mail_password_hash(password, scheme='BLF-CRYPT', existing=None, rounds=None, name='')``
    Dovecot ``{SCHEME}hash``, the existing hash kept when it still fits.

``mail_password_verify(password, hashed)`` -> bool
    True when ``hashed`` (with or without a ``{SCHEME}`` prefix) is a hash of
    ``password`` in one of the supported schemes. A malformed hash, an empty
    one, or one in an unsupported scheme (``{PLAIN}``, ``{CRYPT}``,
    ``{SSHA512}``...) gives False, so that ``when: not ...`` leads to a new
    hash.

``mail_password_policy(password, min_length=8, min_classes=3, weak=None, name='')``
    Returns ``password`` unchanged when it passes every rule, else fails with
    one error listing every broken rule, for example
    ``password of 'locnv@gialai.gov.vn' is too weak: fewer than 8 characters``.
    Rules: at least ``min_length`` characters (counted after NFC
    normalisation, so a Vietnamese letter is one character however it was
    typed); at least ``min_classes`` of the four character classes
    lowercase, uppercase, digits, symbols. Letters with diacritics count by
    ``str.islower()``/``str.isupper()`` (``ộ`` is lowercase, ``Đ`` uppercase);
    anything that is neither a cased letter nor a digit (punctuation, space,
    uncased letters) counts as a symbol. Not one of the known-weak passwords
    (``WEAK_PASSWORDS`` of ``password_policy.py`` plus ``weak``; compared case-insensitively). Does
    not contain the local part of ``name`` (case-insensitive; only when that
    local part has 3 characters or more). No leading or trailing whitespace
    (a classic copy-paste or file-lookup accident) and no control characters.

``mail_check_passwords(accounts, policy=None)``
    ``mail_password_policy`` over every account with a plain ``password``;
    returns the accounts, or an error naming the first failing one.

``mail_passwd_parse(content)`` -> dict
    ``{user: hash}`` from the text of a Dovecot passwd-file
    (``user:{SCHEME}hash:uid:gid::home::extra``). Blank lines and ``#``
    comments are skipped; missing trailing fields are fine; a line with only
    a user gives an empty hash; when a user appears twice the first line
    wins, as in Dovecot. ``None`` or empty text gives ``{}``.

``mail_passwd_newly_locked(before, users, locked_hash)`` -> list
    The accounts a rewrite of the passwd-file locks: those that could log in
    with ``before`` (its text: listed with a hash other than ``locked_hash``)
    and cannot with ``users`` (the new ``dovecot_users``: absent, or
    ``login: false``). Sorted, lower case. The role ends their open sessions
    (``doveadm kick``); an unchanged file gives ``[]``, so a re-run kicks nobody.

No message of this file ever holds a password or a hash: errors name the
account (``name`` argument) instead.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError
from passlib.hash import bcrypt as _bcrypt
from passlib.hash import sha512_crypt as _sha512_crypt

from ansible_collections.gialai.mail.plugins.plugin_utils.password_policy import (  # noqa: F401 - WEAK_PASSWORDS re-exported
    WEAK_PASSWORDS,
    PolicyError,
    check_password_policy,
)


_PREFIX_RE = re.compile(r"^\{([A-Za-z0-9._-]+)\}(.*)$", re.DOTALL)


def _available_schemes():
    schemes = {
        "BLF-CRYPT": {
            "handler": _bcrypt,
            "default_rounds": 10,
            "settings": {"ident": "2y"},
            "idents": ("$2a$", "$2b$", "$2y$"),
        },
        "SHA512-CRYPT": {
            "handler": _sha512_crypt,
            "default_rounds": 5000,
            "settings": {},
            "idents": ("$6$",),
        },
    }
    try:
        from passlib.hash import argon2 as _argon2  # noqa: PLC0415 - optional backend

        if _argon2.has_backend():
            schemes["ARGON2ID"] = {
                "handler": _argon2,
                "default_rounds": 3,
                "settings": {"type": "ID", "memory_cost": 65536, "parallelism": 1},
                "idents": ("$argon2id$",),
            }
    except Exception:  # noqa: BLE001 - any failure just means "no argon2"
        pass
    return schemes


SCHEMES = _available_schemes()


def _who(name):
    return f" of '{name}'" if isinstance(name, str) and name else ""


def _for(name):
    return f" for '{name}'" if isinstance(name, str) and name else ""


def _check_password(password, name, what="hash"):
    if not isinstance(password, str):
        raise AnsibleFilterError(
            f"cannot {what} the password{_who(name)}: it is a {type(password).__name__}, not a string "
            "(quote it in the vault)"
        )
    if not password:
        raise AnsibleFilterError(f"cannot {what} the password{_who(name)}: it is empty")
    if "\x00" in password:
        raise AnsibleFilterError(
            f"cannot {what} the password{_who(name)}: it contains a NUL character"
        )


def _split(hashed):
    """(SCHEME or None, body) of a Dovecot hash string."""
    hashed = hashed.strip()
    match = _PREFIX_RE.match(hashed)
    if match:
        return match.group(1).upper(), match.group(2)
    return None, hashed


def _scheme_of_body(body):
    for scheme, info in SCHEMES.items():
        if body.startswith(info["idents"]):
            return scheme
    return None


def _verify(password, hashed):
    if not isinstance(hashed, str) or not hashed.strip():
        return False
    prefix, body = _split(hashed)
    scheme = _scheme_of_body(body)
    if scheme is None or (prefix is not None and prefix != scheme):
        return False
    try:
        return bool(SCHEMES[scheme]["handler"].verify(password, body))
    except (ValueError, TypeError):
        return False


def _rounds_of(scheme, body):
    try:
        return SCHEMES[scheme]["handler"].from_string(body).rounds
    except (ValueError, TypeError, AttributeError):
        return None


def mail_password_hash(
    password, scheme="BLF-CRYPT", existing=None, rounds=None, name=""
):
    """Dovecot ``{SCHEME}hash`` of ``password``; ``existing`` kept when it still fits."""
    if not isinstance(scheme, str) or scheme.strip().upper() not in SCHEMES:
        raise AnsibleFilterError(
            f"unknown password scheme '{scheme}'{_for(name)}; "
            f"supported: {', '.join(SCHEMES)}"
        )
    scheme = scheme.strip().upper()
    _check_password(password, name)
    info = SCHEMES[scheme]
    if rounds is not None and (isinstance(rounds, bool) or not isinstance(rounds, int)):
        try:
            rounds = int(rounds)
        except (TypeError, ValueError):
            raise AnsibleFilterError(
                f"rounds for {scheme}{_who(name)} must be an integer"
            ) from None

    if isinstance(existing, str) and existing.strip():
        prefix, body = _split(existing)
        if (
            (prefix is None or prefix == scheme)
            and _scheme_of_body(body) == scheme
            and _verify(password, body)
            and (rounds is None or _rounds_of(scheme, body) == rounds)
        ):
            return existing.strip() if prefix is not None else f"{{{scheme}}}{body}"

    settings = dict(info["settings"])
    settings["rounds"] = info["default_rounds"] if rounds is None else rounds
    try:
        body = info["handler"].using(**settings).hash(password)
    except (ValueError, TypeError):
        # passlib's own message may describe the input: do not pass it on.
        raise AnsibleFilterError(
            f"cannot hash the password{_who(name)} with {scheme} (rounds {settings['rounds']}): "
            "invalid rounds or a password the scheme cannot take"
        ) from None
    return f"{{{scheme}}}{body}"


def mail_password_verify(password, hashed):
    """True when ``hashed`` is a supported Dovecot hash of ``password``."""
    _check_password(password, "", what="verify")
    return _verify(password, hashed)


def mail_password_policy(password, min_length=8, min_classes=3, weak=None, name=""):
    """``password`` when it passes the policy, else an error listing the broken rules.

    The rules and their message are ``password_policy.check_password_policy``, the
    same code the password-change service on a store runs (roles/dovecot).
    """
    try:
        return check_password_policy(password, min_length, min_classes, weak, name)
    except PolicyError as err:
        raise AnsibleFilterError(str(err)) from None


def mail_check_passwords(accounts, policy=None):
    """Check every account's plain password against the policy; return the accounts.

    ``accounts`` is a list of dicts with ``address`` and optional ``password``
    (accounts given only a ``password_hash`` are not checked here). ``policy`` is a
    dict of :func:`mail_password_policy` options (min_length, min_classes, weak).
    The first failing account is named in the error; its password never is.
    """
    if not isinstance(accounts, list):
        raise AnsibleFilterError(
            f"mail_check_passwords expects a list of accounts, got {type(accounts).__name__}"
        )
    options = dict(policy or {})
    unknown = set(options) - {"min_length", "min_classes", "weak"}
    if unknown:
        raise AnsibleFilterError(
            f"mail_check_passwords: unknown policy options {sorted(unknown)} "
            "(allowed: min_length, min_classes, weak)"
        )
    for account in accounts:
        if isinstance(account, dict) and "password" in account:
            mail_password_policy(account["password"], name=str(account.get("address", "")), **options)
    return accounts


def mail_passwd_parse(content):
    """``{user: hash}`` from Dovecot passwd-file text."""
    if content is None:
        return {}
    if isinstance(content, bytes):
        content = content.decode("utf-8")
    if not isinstance(content, str):
        raise AnsibleFilterError(
            f"mail_passwd_parse expects the text of a passwd-file, got {type(content).__name__}"
        )
    users = {}
    for line in content.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split(":")
        user = fields[0].strip()
        if not user or user in users:
            continue
        users[user] = fields[1].strip() if len(fields) > 1 else ""
    return users


def mail_passwd_newly_locked(before, users, locked_hash):
    """Accounts that could log in with the passwd-file text ``before`` and cannot with ``users``.

    Those listed in ``before`` with a hash other than ``locked_hash`` and absent from ``users`` (the
    new ``dovecot_users``) or there with ``login: false``; sorted, lower case. The dovecot role ends
    their open sessions (``doveadm kick``); an unchanged file gives ``[]``, so a re-run kicks nobody.
    """
    if not isinstance(users, list) or not all(isinstance(u, dict) and "address" in u for u in users):
        raise AnsibleFilterError("mail_passwd_newly_locked expects the list of mailboxes (dicts with address)")
    could = {user.lower() for user, hashed in mail_passwd_parse(before).items() if hashed != locked_hash}
    can = {str(u["address"]).lower() for u in users if u.get("login", True)}
    return sorted(could - can)
