"""Vietnamese personal names -> mailbox addresses, and address/domain checks.

``mail_assign_addresses(people, domain=None, pattern='{given}{initials}')``
    Copies of the people, each with a unique ``address`` (documented in
    ``plugins/filter/mail_assign_addresses.py``).

``vn_ascii(text)``
    Fold Vietnamese text to ASCII. Precomposed (NFC) and combining (NFD)
    input give the same result; every tone mark and diacritic is removed,
    ``Đ``/``đ`` become ``D``/``d`` (also the look-alike ``Ð`` U+00D0).
    Case is kept. Any character that still is not ASCII after that is
    dropped.

``vn_local_part(full_name, pattern='{given}{initials}')``
    Lowercase ASCII mailbox local part for a Vietnamese name written
    ``Family Middle... Given`` (``Nguyễn Văn Lộc``: family ``nguyen``,
    middle ``[van]``, given ``loc``). Placeholders: ``{given}`` (loc),
    ``{family}`` (nguyen), ``{middle}`` (van; several middle names are
    joined), ``{initials}`` (initials of family and middle names: nv),
    ``{all_initials}`` (nvl), ``{full}`` (nguyenvanloc). Besides
    placeholders the pattern may hold ``.``, ``-``, ``_``, lowercase ASCII
    letters and digits. Runs of separators collapse to their first
    character and separators at either end are stripped, so a one-word
    name gives just the given name whatever the pattern. Characters inside
    a name that are not letters or digits (hyphen, apostrophe, dot) are
    dropped. The result matches ``^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`` and
    is at most 64 characters, else an error.

``mail_valid_domain(name)`` -> bool
    DNS name with at least one dot; labels of 1-63 characters from
    ``[a-z0-9-]`` not starting or ending with ``-``; at most 253 characters;
    the last label is not all digits (so an IPv4 address is not a domain).
    Case-insensitive (callers normalise to lowercase); no trailing dot.

``mail_valid_address(addr)`` -> bool
    ``local@domain`` with an ASCII local part of ``[a-z0-9._+-]`` (at most
    64 characters, no leading, trailing or doubled dot) and a valid domain.
    Mixed case is accepted; every filter of this bundle stores addresses
    lowercased.

``valid_dns_label(label)`` / ``valid_dns_name(name)`` -> bool
    The one DNS-name rule of the collection (also used by ``dns.py``): a label
    of 1-63 characters from ``[a-z0-9-]`` not starting or ending with ``-``
    (case-sensitive: callers lowercase first), a name of such labels of at most
    253 characters. ``mail_valid_domain`` adds "at least one dot, last label
    not all digits".

``check_pattern(pattern)``
    Raises when a local part pattern is malformed (used by ``directory_model.py``).

The filters of ``plugins/filter/`` (vn_ascii, vn_local_part,
mail_assign_addresses, mail_valid_domain, mail_valid_address) map to these
functions; ``validate.py``, ``posting.py``, ``directory_model.py`` and ``dns.py``
import them.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata

from ansible.errors import AnsibleFilterError


# --------------------------------------------------------------------------
# Shared validation helpers (also used by validate.py, posting.py, directory_model.py, dns.py)
# --------------------------------------------------------------------------

LOCAL_PART_RE = re.compile(r"^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$")
_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_ADDR_LOCAL_RE = re.compile(r"^[a-z0-9._+-]+$")
_SEPARATORS = "._-"
_SEP_RUN_RE = re.compile(r"([._-])[._-]+")
_PATTERN_LITERAL_RE = re.compile(r"^[a-z0-9._-]*$")
PLACEHOLDERS = ("given", "family", "middle", "initials", "all_initials", "full")
MAX_LOCAL_LENGTH = 64

# Letters that Unicode does not decompose into base letter + mark.
_SPECIAL_LETTERS = str.maketrans({"Đ": "D", "đ": "d", "Ð": "D", "ð": "d"})


def valid_dns_label(label):
    """True when ``label`` is one DNS label: 1-63 of ``[a-z0-9-]``, no ``-`` at either end."""
    return isinstance(label, str) and bool(_LABEL_RE.match(label))


def valid_dns_name(name):
    """True when ``name`` (lowercase, no trailing dot) is DNS labels joined by dots, at most 253 characters."""
    if not isinstance(name, str) or not name or len(name) > 253:
        return False
    return all(valid_dns_label(label) for label in name.split("."))


def mail_valid_domain(name):
    """True when ``name`` is a DNS name with at least one dot (see module doc)."""
    if not isinstance(name, str) or not valid_dns_name(name.lower()):
        return False
    labels = name.lower().split(".")
    if len(labels) < 2:
        return False
    return not labels[-1].isdigit()


def mail_valid_address(addr):
    """True when ``addr`` is ``local@domain`` with an ASCII local part and a valid domain."""
    if not isinstance(addr, str) or addr.count("@") != 1:
        return False
    local, domain = addr.lower().split("@")
    if not local or len(local) > MAX_LOCAL_LENGTH or not _ADDR_LOCAL_RE.match(local):
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return mail_valid_domain(domain)


# --------------------------------------------------------------------------
# Vietnamese names
# --------------------------------------------------------------------------


def vn_ascii(text):
    """Fold Vietnamese text to ASCII, keeping case (see module doc)."""
    if not isinstance(text, str):
        raise AnsibleFilterError(
            f"vn_ascii expects a string, got {type(text).__name__}"
        )
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    # NFKD cannot produce Đ/đ from anything but they may come from compatibility forms.
    decomposed = decomposed.translate(_SPECIAL_LETTERS)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.encode("ascii", "ignore").decode("ascii")


def _name_parts(full_name):
    if not isinstance(full_name, str):
        raise AnsibleFilterError(
            f"a person's name must be a string, got {type(full_name).__name__}"
        )
    words = []
    for word in vn_ascii(full_name).lower().split():
        cleaned = re.sub(r"[^a-z0-9]", "", word)
        if cleaned:
            words.append(cleaned)
    if not words:
        if full_name.strip():
            raise AnsibleFilterError(
                f"cannot derive a mailbox name from name '{full_name}': it has no letters or digits"
            )
        raise AnsibleFilterError("cannot derive a mailbox name from an empty name")
    family_and_middle = words[:-1]
    return {
        "given": words[-1],
        "family": family_and_middle[0] if family_and_middle else "",
        "middle": "".join(family_and_middle[1:]),
        "initials": "".join(w[0] for w in family_and_middle),
        "all_initials": "".join(w[0] for w in words),
        "full": "".join(words),
    }


def check_pattern(pattern):
    if not isinstance(pattern, str) or not pattern:
        raise AnsibleFilterError(
            "the local part pattern must be a non-empty string such as '{given}{initials}'"
        )
    fields = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise AnsibleFilterError(
            f"local part pattern '{pattern}' is malformed: {exc}"
        ) from None
    for literal, field, spec, conversion in parsed:
        if not _PATTERN_LITERAL_RE.match(literal):
            raise AnsibleFilterError(
                f"local part pattern '{pattern}' may only hold placeholders and the literal characters a-z 0-9 . - _"
            )
        if field is None:
            continue
        if field not in PLACEHOLDERS or spec or conversion:
            raise AnsibleFilterError(
                f"local part pattern '{pattern}' uses unknown placeholder '{{{field}}}'; "
                f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
            )
        fields.append(field)
    if not fields:
        raise AnsibleFilterError(
            f"local part pattern '{pattern}' has no placeholder such as {{given}}"
        )


def vn_local_part(full_name, pattern="{given}{initials}"):
    """Lowercase ASCII mailbox local part for a Vietnamese full name (see module doc)."""
    check_pattern(pattern)
    parts = _name_parts(full_name)
    local = _SEP_RUN_RE.sub(r"\1", pattern.format(**parts)).strip(_SEPARATORS)
    if not LOCAL_PART_RE.match(local):
        raise AnsibleFilterError(
            f"name '{full_name}' gives no usable local part with pattern '{pattern}'"
        )
    if len(local) > MAX_LOCAL_LENGTH:
        raise AnsibleFilterError(
            f"name '{full_name}' gives a local part longer than {MAX_LOCAL_LENGTH} characters with pattern "
            f"'{pattern}'; set an explicit address"
        )
    return local


# --------------------------------------------------------------------------
# Address assignment
# --------------------------------------------------------------------------


def _label(person, index):
    name = person.get("name") if isinstance(person, dict) else None
    if isinstance(name, str) and name.strip():
        label = " ".join(name.split())
        if person.get("id") is not None:
            label += f" (id {person['id']})"
        return f"'{label}'"
    return f"#{index + 1}"


def _sort_key(person):
    pid = person.get("id")
    name = unicodedata.normalize("NFC", " ".join(person["name"].split()))
    try:
        canonical = json.dumps(person, sort_keys=True, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        canonical = repr(sorted(person.items(), key=lambda kv: str(kv[0])))
    if pid is None:
        id_key = (1, 0, 0, "")
    elif isinstance(pid, int) and not isinstance(pid, bool):
        id_key = (0, 0, pid, "")
    else:
        id_key = (0, 1, 0, str(pid))
    return (id_key, name, canonical)


def mail_assign_addresses(people, domain=None, pattern="{given}{initials}"):
    """Copies of ``people`` with a unique ``address`` each (see plugins/filter/)."""
    if not isinstance(people, (list, tuple)):
        raise AnsibleFilterError(
            f"mail_assign_addresses expects a list of people, got {type(people).__name__}"
        )
    if domain is not None and not isinstance(domain, str):
        raise AnsibleFilterError(
            f"mail_assign_addresses: domain must be a string, got {type(domain).__name__}"
        )
    check_pattern(pattern)

    result = []
    explicit_owner = {}  # address -> index
    seen_ids = {}  # id -> index
    generated = {}  # bare address -> [index, ...]

    for index, person in enumerate(people):
        if not isinstance(person, dict):
            raise AnsibleFilterError(
                f"person #{index + 1} must be a mapping with at least 'name'"
            )
        label = _label(person, index)
        name = person.get("name")
        if not isinstance(name, str) or not name.strip():
            raise AnsibleFilterError(f"person {label} has no name")
        copy = dict(person)
        copy.pop("address_collision", None)
        copy.pop("address_base", None)
        result.append(copy)

        pid = person.get("id")
        if pid is not None:
            id_key = str(pid)
            if id_key in seen_ids:
                other = _label(people[seen_ids[id_key]], seen_ids[id_key])
                raise AnsibleFilterError(
                    f"people {other} and {label} have the same id '{pid}'"
                )
            seen_ids[id_key] = index

        person_domain = person.get("domain") or domain
        if isinstance(person_domain, str):
            person_domain = person_domain.strip().lower()
        explicit = person.get("address")
        if explicit not in (None, ""):
            if not isinstance(explicit, str):
                raise AnsibleFilterError(
                    f"person {label} has an address that is not a string"
                )
            explicit = explicit.strip().lower()
            if "@" not in explicit:
                if not person_domain:
                    raise AnsibleFilterError(
                        f"person {label} has the local part '{explicit}' but no domain: "
                        "set domain on the person or pass a domain to the filter"
                    )
                if not mail_valid_domain(person_domain):
                    raise AnsibleFilterError(
                        f"person {label} has an invalid domain '{person_domain}'"
                    )
                explicit = f"{explicit}@{person_domain}"
            if not mail_valid_address(explicit):
                raise AnsibleFilterError(
                    f"person {label} has an invalid address '{explicit}'"
                )
            if explicit in explicit_owner:
                other_index = explicit_owner[explicit]
                other = _label(people[other_index], other_index)
                raise AnsibleFilterError(
                    f"people {other} and {label} both have the address '{explicit}'"
                )
            explicit_owner[explicit] = index
            copy["address"] = explicit
            continue

        if not person_domain:
            raise AnsibleFilterError(
                f"person {label} has no domain: set domain on the person or pass a domain to the filter"
            )
        if not mail_valid_domain(person_domain):
            raise AnsibleFilterError(
                f"person {label} has an invalid domain '{person_domain}'"
            )
        try:
            local = vn_local_part(name, pattern)
        except AnsibleFilterError as exc:
            raise AnsibleFilterError(f"person {label}: {exc.message}") from None
        bare = f"{local}@{person_domain}"
        generated.setdefault(bare, []).append(index)

    # Reserve every explicit address and every distinct bare candidate before handing out
    # suffixes, so that no suffixed address can steal another person's bare address.
    taken = set(explicit_owner) | set(generated)
    for bare in sorted(generated):
        members = sorted(generated[bare], key=lambda i: _sort_key(result[i]))
        first_keeps_bare = bare not in explicit_owner
        local, at_domain = bare.split("@")
        suffix = 2
        for position, index in enumerate(members):
            if position == 0 and first_keeps_bare:
                result[index]["address"] = bare
                continue
            while f"{local}{suffix}@{at_domain}" in taken:
                suffix += 1
            address = f"{local}{suffix}@{at_domain}"
            if len(local) + len(str(suffix)) > MAX_LOCAL_LENGTH:
                raise AnsibleFilterError(
                    f"person {_label(result[index], index)}: local part '{local}{suffix}' is too long; "
                    "set an explicit address"
                )
            taken.add(address)
            result[index]["address"] = address
            result[index]["address_collision"] = True
            result[index]["address_base"] = bare
    return result
