"""The password policy (R7): one function, run on the controller and on the stores.

``check_password_policy(password, min_length=8, min_classes=3, weak=None, name='')``
    Returns ``password`` unchanged when it passes every rule, else raises
    ``PolicyError`` with one message listing every broken rule, for example
    ``password of 'locnv@gialai.gov.vn' is too weak: fewer than 8 characters``.
    The filter ``mail_password_policy`` (``passwords.py``: the preflight's check of
    the inventory's passwords) raises that message as its error; the dovecot role
    installs this file beside the password-change service of a store
    (``/usr/local/lib/mail-password/``), which answers a user's new password in
    webmail with the same message. The rules are those of ``passwords.py``'s
    documentation.

Standard library only: the stores run it without Ansible or passlib.
"""

from __future__ import annotations

import unicodedata


class PolicyError(ValueError):
    """A password the policy refuses (the message names the account, never the password)."""


WEAK_PASSWORDS = frozenset(
    p.casefold()
    for p in (
        "Password1!", "Password@1", "Password@123", "P@ssw0rd", "P@ssw0rd1", "P@ssword1",
        "Pa$$w0rd", "Passw0rd!", "12345678Aa", "12345678Aa@", "Aa123456", "Aa@123456",
        "Abc@123", "Abc@1234", "Abc@12345", "Abc@123456", "Abcd@1234", "Abc123!@#",
        "Qwerty@123", "Qwerty123!", "Admin@123", "Admin@1234", "Admin123!", "Welcome@123",
        "Welcome1!", "Matkhau@123", "MatKhau123!", "Matkhau1!", "Gialai@123", "Gialai@2024",
        "Gialai@2025", "GiaLai123!", "Pleiku@123", "Pleiku@2024", "Vietnam@123",
        "VietNam123!", "Email@123", "Mail@123", "Thudientu@123", "Changeme1!",
        "ChangeMe@123", "Ubnd@123", "Sonv@123", "Default@123",
    )
)  # fmt: skip


def _who(name):
    return f" of '{name}'" if isinstance(name, str) and name else ""


def _char_classes(password):
    classes = set()
    for ch in password:
        if ch.islower():
            classes.add("lowercase")
        elif ch.isupper():
            classes.add("uppercase")
        elif ch.isdigit():
            classes.add("digits")
        else:
            classes.add("symbols")
    return classes


def check_password_policy(password, min_length=8, min_classes=3, weak=None, name=""):
    """``password`` when it passes the policy, else ``PolicyError`` listing the broken rules."""
    who = _who(name)
    if not isinstance(password, str):
        raise PolicyError(
            f"password{who} must be a string, got {type(password).__name__} (quote it in the vault)"
        )
    for option, value, low, high in (
        ("min_length", min_length, 1, 4096),
        ("min_classes", min_classes, 1, 4),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not low <= value <= high
        ):
            raise PolicyError(
                f"mail_password_policy: {option} must be an integer from {low} to {high}"
            )
    if weak is None:
        weak = ()
    elif isinstance(weak, str):
        weak = (weak,)
    known_weak = WEAK_PASSWORDS | {w.casefold() for w in weak if isinstance(w, str)}

    text = unicodedata.normalize("NFC", password)
    failures = []
    if len(text) < min_length:
        failures.append(f"fewer than {min_length} characters")
    classes = _char_classes(text)
    if len(classes) < min_classes:
        used = (
            ", ".join(
                c
                for c in ("lowercase", "uppercase", "digits", "symbols")
                if c in classes
            )
            or "none"
        )
        failures.append(
            f"uses {len(classes)} of the character classes lowercase, uppercase, digits, symbols "
            f"({used}); at least {min_classes} required"
        )
    if text.casefold() in known_weak:
        failures.append("is a well-known weak password")
    if isinstance(name, str) and name:
        local = name.split("@", 1)[0].strip()
        if len(local) >= 3 and local.casefold() in text.casefold():
            failures.append(f"contains the account name '{local}'")
    if text != text.strip():
        failures.append("begins or ends with whitespace")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        failures.append("contains control characters")
    if failures:
        raise PolicyError(f"password{who} is too weak: {'; '.join(failures)}")
    return password
