"""Validation of the mailbox list before anything is deployed.

``mail_validate_mailboxes`` (documented in ``plugins/filter/mail_validate_mailboxes.py``) and
five helpers for the roles' input checks: ``mail_invalid_domains``, ``mail_invalid_addresses``,
``mail_wide_networks``, ``mail_setting_problems`` and ``mail_ratelimit_bad_classes`` (their
docstrings; each a filter of the same name). ``QUOTA_RE`` is
the one quota syntax (500M, 2G, 1T), also used by ``directory_model.py``.

The address and domain rules live in ``names.py`` (one place for them).
"""

from __future__ import annotations

import ipaddress
import json
import numbers
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.names import mail_valid_address, mail_valid_domain


QUOTA_RE = re.compile(r"^[1-9][0-9]*[KMGT]$")


def _has_value(value):
    return value is not None and (not isinstance(value, str) or value != "")


def mail_validate_mailboxes(mailboxes, domains):
    """Copies of ``mailboxes`` with lowercase addresses, or an error listing every problem."""
    if isinstance(domains, str):
        domains = [domains]
    if not isinstance(domains, (list, tuple)) or not domains:
        raise AnsibleFilterError(
            "mail_validate_mailboxes: no served domains given (a list such as ['gialai.gov.vn'])"
        )
    served = []
    for domain in domains:
        if not isinstance(domain, str) or not mail_valid_domain(domain.strip()):
            raise AnsibleFilterError(
                f"served domain '{domain}' is not a valid domain name"
            )
        served.append(domain.strip().lower())
    served_text = ", ".join(served)

    if not isinstance(mailboxes, (list, tuple)):
        raise AnsibleFilterError(
            f"mail_validate_mailboxes expects a list of mailboxes, got {type(mailboxes).__name__}"
        )

    problems = []
    result = []
    seen = set()
    for index, mailbox in enumerate(mailboxes):
        if not isinstance(mailbox, dict):
            problems.append(f"mailbox #{index + 1} is not a mapping")
            continue
        raw = mailbox.get("address")
        if not isinstance(raw, str) or not raw.strip():
            problems.append(f"mailbox #{index + 1} has no address")
            continue
        address = raw.strip().lower()
        copy = dict(mailbox)
        copy["address"] = address
        result.append(copy)
        if not mail_valid_address(address):
            problems.append(f"mailbox '{address}' has a malformed address")
        elif address.split("@", 1)[1] not in served:
            problems.append(
                f"mailbox '{address}' is outside the served domains: {served_text}"
            )
        if address in seen:
            problems.append(f"mailbox '{address}' is listed more than once")
        seen.add(address)
        password = mailbox.get("password")
        password_hash = mailbox.get("password_hash")
        if not _has_value(password) and not _has_value(password_hash):
            problems.append(
                f"mailbox '{address}' has no password: set password (from vault) or password_hash"
            )
        quota = mailbox.get("quota")
        if quota is not None and not (isinstance(quota, str) and QUOTA_RE.match(quota)):
            problems.append(
                f"mailbox '{address}' has quota {quota!r}: use a size such as 500M, 2G or 1T"
            )
        if _has_value(password_hash) and not (
            isinstance(password_hash, str) and password_hash.startswith("{")
        ):
            problems.append(
                f"mailbox '{address}' has a password_hash without a Dovecot {{SCHEME}} prefix "
                "(make it with the mail_password_hash filter)"
            )

    if problems:
        message = problems[0]
        if len(problems) > 1:
            message += (
                f" ({len(problems)} problems in all: " + "; ".join(problems) + ")"
            )
        raise AnsibleFilterError(message)
    return result


def mail_invalid_domains(domains):
    """The entries of ``domains`` that are not valid domain names (empty list when all are)."""
    if isinstance(domains, str):
        domains = [domains]
    return [d for d in domains or [] if not mail_valid_domain(d)]


def mail_invalid_addresses(addresses, domains=None):
    """The entries of ``addresses`` that are malformed or, when ``domains`` is given, outside them."""
    if isinstance(addresses, str):
        addresses = [addresses]
    served = {str(d).lower() for d in (domains or [])}
    bad = []
    for address in addresses or []:
        if not mail_valid_address(address):
            bad.append(address)
        elif served and str(address).rsplit("@", 1)[1].lower() not in served:
            bad.append(address)
    return bad


def mail_wide_networks(networks, min_prefix_v4=24, min_prefix_v6=64):
    """Problems with a list of networks that may relay without authentication (Postfix mynetworks).

    Each entry must be an address or a CIDR network (IPv6 in Postfix's ``[addr]/len`` form or
    bare); a table reference or anything unparsable is a problem, and so is a prefix wider than
    ``min_prefix_v4`` / ``min_prefix_v6``: comparing strings let ``0.0.0.0/1`` plus
    ``128.0.0.0/1`` (the whole Internet) through. Returns the messages, empty when all are right.
    """
    problems = []
    if isinstance(networks, str):
        networks = [networks]
    for entry in networks or []:
        text = str(entry).strip()
        address, slash, length = text.partition("/")
        if address.startswith("[") and address.endswith("]"):
            address = address[1:-1]
        try:
            network = ipaddress.ip_network(f"{address}{slash}{length}", strict=False)
        except ValueError:
            problems.append(f"'{text}' is not an IP address or CIDR network")
            continue
        widest = min_prefix_v4 if network.version == 4 else min_prefix_v6
        if network.prefixlen < int(widest):
            problems.append(f"'{text}' is wider than /{widest} ({network.num_addresses} addresses would relay "
                            "without authentication)")
    return problems


def mail_setting_problems(settings, name_pattern, value_pattern, label, rule):
    """Problems with a mapping of settings (kernel parameters, login.defs), one message per entry.

    A name must match ``name_pattern``; a value must be a number (not a boolean) or a string that
    matches ``value_pattern``. Each message names the entry, its value and type, then ``rule``:
    ``"<label>: '<name>' = <value as JSON> (<type>): <rule>"``. One check of the whole mapping
    instead of an assert per entry (53 kernel parameters were 53 loop items on every run).
    """
    problems = []
    for name, value in (settings or {}).items():
        good_name = isinstance(name, str) and re.match(name_pattern, name) is not None
        good_value = (isinstance(value, numbers.Number) and not isinstance(value, bool)) or (
            isinstance(value, str) and re.match(value_pattern, value) is not None)
        if not (good_name and good_value):
            shown = json.dumps(value, default=str, ensure_ascii=False)
            problems.append(f"{label}: '{name}' = {shown} ({type(value).__name__}): {rule}")
    return problems


def _integer(value):
    """Jinja's ``integer`` test: an int that is not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def mail_ratelimit_bad_classes(classes):
    """The names of the rate-limit classes whose ``messages`` or ``recipients`` is not a positive integer.

    In the order postfix's input check listed them (each check in turn over the classes in their
    order: ``messages`` not an integer, ``recipients`` not an integer, ``messages`` <= 0,
    ``recipients`` <= 0), so a class wrong twice is named twice. A missing limit, or a class that is
    not a mapping, is not an integer.
    """
    items = list((classes or {}).items())

    def limit(value, key):
        return value.get(key) if isinstance(value, dict) else None

    bad = [name for name, value in items if not _integer(limit(value, "messages"))]
    bad += [name for name, value in items if not _integer(limit(value, "recipients"))]
    bad += [name for name, value in items if _integer(limit(value, "messages")) and limit(value, "messages") <= 0]
    bad += [name for name, value in items
            if _integer(limit(value, "recipients")) and limit(value, "recipients") <= 0]
    return bad
