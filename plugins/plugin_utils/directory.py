"""The province's agencies, units and people -> mailboxes, aliases and lists.

``mail_directory(agencies, people, domains, pattern='{given}{initials}', quota_classes=None,
default_quota_class=None, lists=None, aliases=None, roles=None)``
    ``accounts``, ``aliases``, ``collisions`` and ``agency_parents`` of the province
    (documented in ``plugins/filter/mail_directory.py``; the model is ``directory_model.py``).

``mail_directory_aliases(directory, effective_accounts)``
    The ``mail_aliases`` list the postfix role consumes: ``directory.aliases``
    (unit send-as addresses, per-agency and province-wide lists, extra aliases)
    with every target that is one of the directory's accounts kept only when
    it can still receive mail in ``effective_accounts`` (the output of
    ``mail_apply_lifecycle``: its ``receive`` field). So a revoked or expired
    person drops out of every list, a suspended or retained one stays. Targets
    outside the directory (a forward to another server) are kept. An alias
    left with no target is omitted (mail to it is then refused as an unknown
    address). Order and ``senders`` are kept.

``mail_agency_mailboxes(accounts, parents)``
    The mailboxes of each agency, for a restore by agency (the backup_client role's
    ``backup_agencies``): ``accounts`` are effective accounts (the output of
    ``mail_apply_lifecycle``; each may carry ``agency``, a code), ``parents``
    the mapping code -> parent code or null of every agency and sub-unit
    (``mail_directory_result.agency_parents``, or written out in an inventory
    with literal ``mail_accounts``). Returns {code: sorted addresses} for every
    code of ``parents`` (in its order): the accounts whose agency is that code
    or any of its sub-units, to any depth. Codes match case-insensitively; the
    result uses the codes as written in ``parents``. Accounts without
    ``agency`` are ignored, and so are those whose ``action`` is
    ``archive_then_remove`` (their mailbox is removed after a verified archive
    and is restored on its own from that archive snapshot). Errors: parents
    not a mapping, a parent that is not itself a code ("agency 'X' has unknown
    parent 'Y'"), a cycle (named), an account whose agency is not a code
    (naming the account and the known codes).

Each function is the filter of the same name. The name and address rules are those of
``names.py``.
"""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.directory_model import (
    ALIAS_KEYS,
    LIST_KEYS,
    Directory,
    as_list,
    fail,
    make_alias,
    unknown_keys,
)
from ansible_collections.gialai.mail.plugins.plugin_utils.names import mail_valid_address


def mail_directory(agencies, people, domains, pattern="{given}{initials}", quota_classes=None,
                   default_quota_class=None, lists=None, aliases=None, roles=None):
    """Mailboxes, aliases and the collision report of a province (see plugins/filter/)."""
    directory = Directory(domains, pattern, quota_classes, default_quota_class, roles)
    if not isinstance(agencies, (list, tuple)) or not agencies:
        fail("mail_directory expects a non-empty list of agencies")
    for index, agency in enumerate(agencies):
        directory.add_agency(agency, None, index)

    # Province-wide lists and extra aliases claim their addresses before people do.
    def claimed(items, kind, keys, shape):
        """(address, spec, what) for each list or alias entry, its address claimed."""
        for index, spec in enumerate(as_list(items, f"mail_directory: {kind}s")):
            if not isinstance(spec, dict):
                fail(f"{kind} #{index + 1} must be a mapping with {shape}")
            unknown_keys(spec, keys, f"{kind} #{index + 1}")
            address = directory.full_address(spec.get("address"), directory.served[0], f"{kind} #{index + 1}")
            what = f"the {kind} '{address}'"
            directory.claim(address, what)
            yield address, spec, what

    list_specs = list(claimed(lists, "list", LIST_KEYS, "address"))
    extra_specs = []
    for address, spec, what in claimed(aliases, "alias", ALIAS_KEYS, "address and to"):
        targets = as_list(spec.get("to"), f"{what}: to")
        if not targets:
            fail(f"{what} has no targets (to: [...])")
        for target in targets:
            if not mail_valid_address(target):
                fail(f"{what} has an invalid target '{target}'")
        extra_specs.append((address, [str(t).strip().lower() for t in targets], spec, what))

    records = directory.add_people(people)
    people_accounts, collisions = directory.assign(records)
    accounts = directory.unit_accounts + people_accounts
    all_addresses = {a["address"] for a in accounts}
    by_id = {str(a["id"]): a["address"] for a in people_accounts if "id" in a}

    # Granted people send as the unit mailbox itself (and as its aliases, below).
    for account, refs, domain, what in directory.unit_senders:
        granted = [a for a in directory.resolve_senders(refs, domain, what, by_id, all_addresses)
                   if a != account["address"]]
        if granted:
            account["senders"] = granted

    out_aliases = []
    for address, spec, what in list_specs:
        wanted_roles = [str(r).strip().lower() for r in as_list(spec.get("roles"), f"{what}: roles")]
        for role in wanted_roles:
            if role not in directory.roles:
                fail(f"{what} selects unknown role '{role}'; known: {', '.join(directory.roles)}")
        codes = as_list(spec.get("agencies"), f"{what}: agencies")
        allowed = None
        if codes:
            allowed = set()
            for code in codes:
                key = str(code).strip().upper()
                if key not in directory.agencies:
                    fail(f"{what} selects unknown agency '{code}'")
                allowed.update(directory.agencies[key]["members"])
        members = [a["address"] for a in people_accounts
                   if (not wanted_roles or a["role"] in wanted_roles) and (allowed is None or a["address"] in allowed)]
        if not members:
            fail(f"{what} selects nobody (roles {wanted_roles or 'any'}, agencies {codes or 'any'})")
        senders = directory.resolve_senders(as_list(spec.get("senders"), f"{what}: senders"),
                                            address.split("@", 1)[1], what, by_id, all_addresses)
        out_aliases.append(make_alias(address, members, senders,
                                  directory.posting(spec, address.split("@", 1)[1], what, by_id, all_addresses)))

    for key in directory.agency_order:
        info = directory.agencies[key]
        for draft in directory.agency_aliases[key]:
            senders = [draft["self"]] + directory.resolve_senders(
                draft["sender_refs"], draft["domain"], draft["what"], by_id, all_addresses)
            # a unit's other address is as public as the unit mailbox itself
            out_aliases.append(make_alias(draft["address"], draft["to"], list(dict.fromkeys(senders)),
                                      {"posting": "public"}))
        if info["list"] is not None:
            spec = info["list"]
            if not info["members"]:
                fail(f"{spec['what']} ('{spec['address']}') has no members: nobody belongs to {info['label']}")
            senders = directory.resolve_senders(spec["senders"], spec["domain"], spec["what"], by_id, all_addresses)
            out_aliases.append(make_alias(spec["address"], list(info["members"]), senders, directory.posting(
                spec["spec"], spec["domain"], spec["what"], by_id, all_addresses)))

    for address, targets, spec, what in extra_specs:
        senders = directory.resolve_senders(as_list(spec.get("senders"), f"{what}: senders"),
                                            address.split("@", 1)[1], what, by_id, all_addresses)
        out_aliases.append(make_alias(address, targets, senders,
                                  directory.posting(spec, address.split("@", 1)[1], what, by_id, all_addresses)))

    parents = {}
    for key in directory.agency_order:
        parent = directory.agencies[key]["parent"]
        parents[directory.agencies[key]["code"]] = directory.agencies[parent]["code"] if parent else None
    return {"accounts": accounts, "aliases": out_aliases, "collisions": collisions, "agency_parents": parents}


def mail_directory_aliases(directory, effective_accounts):
    """``directory.aliases`` with targets that cannot receive removed (see the module docstring)."""
    if not isinstance(directory, dict) or "aliases" not in directory or "accounts" not in directory:
        fail("mail_directory_aliases expects the result of mail_directory")
    if not isinstance(effective_accounts, (list, tuple)):
        fail("mail_directory_aliases expects the effective accounts (the output of mail_apply_lifecycle)")
    receive = {}
    for account in effective_accounts:
        if not isinstance(account, dict) or "receive" not in account:
            fail("mail_directory_aliases: every effective account needs 'receive' (use mail_apply_lifecycle)")
        receive[str(account.get("address", "")).strip().lower()] = bool(account["receive"])
    ours = {a["address"] for a in directory["accounts"]}
    result = []
    for alias in directory["aliases"]:
        targets = []
        for target in alias["to"]:
            if target in ours:
                if target not in receive:
                    fail(f"alias '{alias['address']}': '{target}' is not among the effective accounts "
                          "(pass mail_accounts_effective made from the same directory)")
                if not receive[target]:
                    continue
            targets.append(target)
        if targets:
            result.append(make_alias(alias["address"], targets, alias.get("senders"),
                                 {k: alias[k] for k in ("posting", "posting_senders") if k in alias}))
    return result


def mail_agency_mailboxes(accounts, parents):
    """{agency code: sorted addresses of it and its sub-units} (see the module docstring)."""
    if not isinstance(parents, dict):
        fail("mail_agency_mailboxes expects the agency tree as a mapping code -> parent code or null "
              f"(mail_directory_result.agency_parents), got {type(parents).__name__}")
    if not isinstance(accounts, (list, tuple)):
        fail("mail_agency_mailboxes expects the effective accounts (the output of mail_apply_lifecycle)")
    codes = {}  # upper -> as written
    for code in parents:
        if not isinstance(code, str) or not code.strip():
            fail(f"mail_agency_mailboxes: agency code {code!r} is not a code")
        key = code.strip().upper()
        if key in codes:
            fail(f"mail_agency_mailboxes: agencies '{codes[key]}' and '{code}' are the same code")
        codes[key] = code
    parent_of = {}
    for code, parent in parents.items():
        if parent in (None, ""):
            parent_of[code.strip().upper()] = None
            continue
        if not isinstance(parent, str) or parent.strip().upper() not in codes:
            fail(f"agency '{code}' has unknown parent '{parent}'; known: {', '.join(parents)}")
        parent_of[code.strip().upper()] = parent.strip().upper()
    for key in parent_of:
        seen = [key]
        up = parent_of[key]
        while up is not None:
            if up in seen:
                cycle = seen[seen.index(up):] + [up]
                fail(f"agency tree has a cycle: {' -> '.join(codes[k] for k in cycle)}")
            seen.append(up)
            up = parent_of[up]
    members = {key: set() for key in codes}
    for account in accounts:
        if not isinstance(account, dict):
            fail("mail_agency_mailboxes: every account must be a mapping with address")
        agency = account.get("agency")
        if agency in (None, ""):
            continue
        address = str(account.get("address", "")).strip().lower()
        key = str(agency).strip().upper()
        if key not in codes:
            fail(f"account '{address}' has unknown agency '{agency}'; known: {', '.join(parents)}")
        if account.get("action") == "archive_then_remove":
            continue
        while key is not None:
            members[key].add(address)
            key = parent_of[key]
    return {codes[key]: sorted(members[key]) for key in codes}
