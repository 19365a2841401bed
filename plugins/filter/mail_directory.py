"""The province's agencies, units and people -> mailboxes, aliases and lists.

Filters in this file (the main one, ``mail_directory``, is documented in
DOCUMENTATION below):

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
    The mailboxes of each agency, for a restore by agency (the backup role's
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

The name and address rules are those of ``mail_names.py`` (loaded by file
path, because Ansible loads each filter file as an isolated module).
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import os
import re
import sys
import unicodedata

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: mail_directory
short_description: turn agencies, units and people into mailboxes, aliases and lists
description:
  - Describes the province as data (agencies with their unit mailbox and nested sub-units, people
    with their Vietnamese name, agency and role, quota classes, lists) and returns exactly what the
    roles consume, C(accounts) (the shape of C(mail_accounts)) and C(aliases) (the shape of
    C(mail_aliases)), plus C(collisions), the report of generated addresses that got a numeric suffix.
  - "Agency (cơ quan / đơn vị): C(code) (unique across all agencies and sub-units), C(name), C(domain)
    (a served domain; default the parent's, for a top-level agency the first of O(domains)),
    C(mailbox) (the unit mailbox, required for a top-level agency), C(mailboxes) (more shared
    mailboxes of the unit, such as postmaster), C(list) (address of a list of every person of the
    agency and its sub-units, or a mapping C(address), C(name), C(senders), C(posting),
    C(posting_senders)), C(units) (sub-units,
    the same shape, nested to any depth)."
  - "Unit mailbox: C(address) (a local part in the agency's domain, or a full address), C(name)
    (default the agency's name), C(quota) or C(quota_class), C(state) and C(departed_on) (as for
    people), C(aliases) (more addresses of the unit; they deliver to the mailbox) and C(senders)
    (people who may send as the unit: ids or addresses). A unit mailbox is a real mailbox: its
    password comes from the vault mapping like everyone's. The grant covers the mailbox address
    itself (the account gets C(senders), which the postfix role's C(postfix_sender_grants) takes)
    and each of the unit's C(aliases) (an alias with C(to) the mailbox and C(senders) the mailbox
    itself followed by C(senders)). A unit alias is C(posting) C(public), like the unit mailbox."
  - "Person: C(name) (full Vietnamese name), C(agency) (the code of an agency or sub-unit), C(role)
    (one of O(roles), default staff; passed through, so leaders get the leader retention of
    C(mail_apply_lifecycle)), C(state) and C(departed_on) (passed through to the lifecycle
    filters), C(id) (optional stable identifier such as a staff number, unique), C(address)
    (explicit, always wins: a local part or a full address), C(quota) (a size such as 2G) or
    C(quota_class)."
  - Addresses of people without an explicit one are C(mail_assign_addresses) with O(pattern) in the
    agency's domain. Every unit mailbox, unit alias, list and extra alias address is reserved first,
    so a generated address never takes one of them. Collisions get suffixes 2, 3, ... in the order
    of C(id), then name, then the rest of the record, never the input order; each is reported in
    C(collisions).
  - "Senders (of a unit or a list) name people or mailboxes: a person's C(id), a full address, or a
    local part in the unit's or list's domain; each must be an account of the directory."
  - "List (province-wide, O(lists)): C(address) (local part in the first served domain, or full),
    C(name), C(roles) (only people with one of these roles), C(agencies) (only people of these
    agencies and their sub-units), C(senders), C(posting), C(posting_senders). Without C(roles) and C(agencies) a list holds every
    person. Members are in the order people are listed in the input. A list that selects nobody
    is an error."
  - "Posting (lists, agency lists, extra aliases): C(posting) is who may post to it, C(internal)
    (the default), C(members), C(senders) or C(public) (see the postfix role's C(postfix_aliases));
    C(posting_senders) (ids or addresses of the directory, as for C(senders)) only with C(senders)."
  - Every address (unit mailboxes, unit aliases, lists, people's explicit addresses, extra aliases)
    may be used once; a duplicate is an error naming both owners. Two agencies with the same code,
    two people with the same C(id) and two identical people records (same name, agency and the
    rest) are errors naming both.
  - Lists and unit aliases come out unfiltered here; C(mail_directory_aliases) keeps only the
    members that can receive according to C(mail_apply_lifecycle). Other filter in this file is
    C(mail_directory_aliases); see the module docstring.
  - "C(agency_parents) is the agency tree for C(mail_agency_mailboxes) (also in this file; see the
    module docstring): the mailboxes of an agency and all its sub-units, which the backup role
    restores by agency."
positional: _input, people, domains
options:
  _input:
    description: List of agencies (see above).
    type: list
    elements: dict
    required: true
  people:
    description: List of people (see above).
    type: list
    elements: dict
    required: true
  domains:
    description: The served mail domains (C(mail_domains)).
    type: list
    elements: str
    required: true
  pattern:
    description: Local part pattern for people without an explicit address, see C(vn_local_part).
    type: str
    default: '{given}{initials}'
  quota_classes:
    description: Mapping class name -> size (C(500M), C(2G), C(1T)).
    type: dict
    default: {}
  default_quota_class:
    description: Quota class of a person without C(quota) or C(quota_class) (none when null).
    type: str
  lists:
    description: Province-wide lists (see above).
    type: list
    elements: dict
    default: []
  aliases:
    description: >-
      Extra aliases in the shape of C(mail_aliases) (C(address), C(to), C(senders), C(posting),
      C(posting_senders)), passed through
      after the checks; a local part is in the first served domain.
    type: list
    elements: dict
    default: []
  roles:
    description: The roles a person may have.
    type: list
    elements: str
    default: [staff, leader, director, deputy_director, head]
notes:
  - Errors name the offending agency, person, list or alias. The directory holds no password
    (passwords stay in the vault mapping given to C(mail_apply_lifecycle)).
"""

EXAMPLES = r"""
# mail_agencies:
#   - code: VP
#     name: "Văn phòng UBND tỉnh"
#     mailbox: {address: vanphong, quota_class: unit, aliases: [hanhchinh], senders: [GL0002]}
#     list: vp
#     units:
#       - {code: VP-LT, name: "Lưu trữ", mailbox: {address: luutru, quota: 1M}}
#   - {code: SNV, name: "Sở Nội vụ", mailbox: {address: sonoivu}}
# mail_people:
#   - {id: GL0001, name: "Nguyễn Văn Lộc", agency: VP, role: leader}
#   - {id: GL0002, name: "Trần Thị Hoa", agency: VP-LT}
#   - {id: GL0003, name: "Nguyễn Vũ Lộc", agency: SNV, quota_class: large}
# mail_lists:
#   - {address: lanhdao, name: "Lãnh đạo", roles: [leader]}
#   - {address: toantinh, name: "Toàn tỉnh", posting: senders, posting_senders: [vanphong]}
mail_directory_result: >-
  {{ mail_agencies | mail_directory(mail_people, mail_domains, pattern='{given}{initials}',
     quota_classes={'unit': '5G', 'large': '10G'}, default_quota_class=none, lists=mail_lists) }}
mail_accounts: "{{ mail_directory_result.accounts }}"
# -> vanphong@ (quota 5G), luutru@ (1M), locnv@ (role leader), hoatt@,
#    locnv2@ (Nguyễn Vũ Lộc, GL0003 sorts after GL0001; quota 10G)
mail_aliases: "{{ mail_directory_result | mail_directory_aliases(mail_accounts_effective) }}"
# -> lanhdao@ to [locnv@] (posting internal); toantinh@ to [locnv@, hoatt@, locnv2@] (minus anyone revoked
#    or expired; posting senders [vanphong@]); hanhchinh@ to [vanphong@], senders [vanphong@, hoatt@]
#    (posting public); vp@ to [locnv@, hoatt@] (posting internal)
collisions: "{{ mail_directory_result.collisions }}"
# -> [{address: locnv2@gialai.gov.vn, base: locnv@gialai.gov.vn, name: Nguyễn Vũ Lộc, agency: SNV, id: GL0003}]
backup_agencies: "{{ mail_accounts_effective | mail_agency_mailboxes(mail_directory_result.agency_parents) }}"
# agency_parents -> {VP: null, VP-LT: VP, SNV: null}
# backup_agencies -> {VP: [hoatt@, locnv@, luutru@, vanphong@], VP-LT: [hoatt@, luutru@], SNV: [locnv2@, sonoivu@]}
"""

RETURN = r"""
_value:
  description: The directory.
  type: dict
  contains:
    accounts:
      description: >-
        One mapping per mailbox, unit mailboxes first (agency order, each agency before its
        sub-units), then people in input order; C(address), C(name), C(agency) (code), and when
        set C(id), C(role) (people), C(state), C(departed_on), C(quota), C(shared) (true for unit
        mailboxes). The shape of C(mail_accounts).
      type: list
      elements: dict
    aliases:
      description: >-
        C(address), C(to), C(senders) when there are any, C(posting), and C(posting_senders) with
        posting C(senders): province-wide lists, then per agency
        (in agency order) its unit aliases and its list, then the extra aliases. Not yet filtered
        by the lifecycle (see C(mail_directory_aliases)).
      type: list
      elements: dict
    collisions:
      description: >-
        People whose generated address got a suffix, sorted by C(base) then suffix (2 before 10):
        C(address), C(base) (the address collided on), C(name), C(agency), C(id) (or null).
      type: list
      elements: dict
    agency_parents:
      description: >-
        Every agency and sub-unit code (as written) -> the code of its parent, null for a
        top-level agency, in agency order (each agency before its sub-units). The input of
        C(mail_agency_mailboxes).
      type: dict
"""


def _load_sibling(stem):
    """Load ``<this folder>/<stem>.py`` once, under a private module name."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{stem}.py")
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:12]
    module_name = f"_mail_filter_{stem}_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception:
            del sys.modules[module_name]
            raise
    return module


_names = _load_sibling("mail_names")
# One quota syntax for the directory and the mailbox check.
_QUOTA_RE = _load_sibling("mail_validate")._QUOTA

DEFAULT_ROLES = ("staff", "leader", "director", "deputy_director", "head")
STATES = ("active", "suspended", "departed", "revoked")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_AGENCY_KEYS = ("code", "name", "domain", "mailbox", "mailboxes", "list", "units")
_MAILBOX_KEYS = ("address", "name", "quota", "quota_class", "state", "departed_on", "aliases", "senders")
_PERSON_KEYS = ("name", "id", "agency", "role", "state", "departed_on", "address", "quota", "quota_class")
_LIST_KEYS = ("address", "name", "roles", "agencies", "senders", "posting", "posting_senders")
_AGENCY_LIST_KEYS = ("address", "name", "senders", "posting", "posting_senders")
_ALIAS_KEYS = ("address", "to", "senders", "posting", "posting_senders")
_POLICIES = ("internal", "members", "senders", "public")


def _fail(message):
    raise AnsibleFilterError(message)


def _clean_name(value):
    return unicodedata.normalize("NFC", " ".join(value.split()))


def _as_list(value, what):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        _fail(f"{what} must be a list")
    return list(value)


def _unknown_keys(mapping, allowed, what):
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        _fail(f"{what} has unknown field(s) {', '.join(unknown)}; known: {', '.join(allowed)}")


class _Directory:
    def __init__(self, domains, pattern, quota_classes, default_quota_class, roles):
        if isinstance(domains, str):
            domains = [domains]
        if not isinstance(domains, (list, tuple)) or not domains:
            _fail("mail_directory: no served domains given (a list such as ['gialai.gov.vn'])")
        self.served = []
        for domain in domains:
            if not isinstance(domain, str) or not _names.mail_valid_domain(domain.strip()):
                _fail(f"served domain '{domain}' is not a valid domain name")
            self.served.append(domain.strip().lower())
        _names._check_pattern(pattern)
        self.pattern = pattern

        if quota_classes is None:
            quota_classes = {}
        if not isinstance(quota_classes, dict):
            _fail("mail_directory: quota_classes must be a mapping class -> size such as {unit: 5G}")
        self.quota_classes = {}
        for name, size in quota_classes.items():
            if not (isinstance(size, str) and _QUOTA_RE.match(size.strip())):
                _fail(f"quota class '{name}' has size {size!r}: use a size such as 500M, 2G or 1T")
            self.quota_classes[str(name)] = size.strip()
        if default_quota_class is not None and str(default_quota_class) not in self.quota_classes:
            _fail(f"default_quota_class '{default_quota_class}' is not a quota class; "
                  f"known: {', '.join(sorted(self.quota_classes)) or 'none'}")
        self.default_quota_class = default_quota_class

        roles = DEFAULT_ROLES if roles is None else _as_list(roles, "mail_directory: roles")
        self.roles = [str(r).strip().lower() for r in roles]

        self.agencies = {}  # code (upper) -> info
        self.agency_order = []
        self.owners = {}  # address -> label of its owner
        self.unit_accounts = []
        self.agency_aliases = {}  # code -> [alias drafts] (senders unresolved)
        self.unit_senders = []  # (unit account, sender refs, domain, what): resolved once people are known

    # -- helpers ------------------------------------------------------------

    def full_address(self, value, domain, what):
        if not isinstance(value, str) or not value.strip():
            _fail(f"{what} has no address")
        address = value.strip().lower()
        if "@" not in address:
            address = f"{address}@{domain}"
        if not _names.mail_valid_address(address):
            _fail(f"{what} has an invalid address '{address}'")
        if address.split("@", 1)[1] not in self.served:
            _fail(f"{what} has the address '{address}' outside the served domains: {', '.join(self.served)}")
        return address

    def claim(self, address, label):
        if address in self.owners:
            _fail(f"{self.owners[address]} and {label} both use the address '{address}'")
        self.owners[address] = label

    def quota(self, spec, what):
        quota = spec.get("quota")
        quota_class = spec.get("quota_class")
        if quota not in (None, ""):
            if not (isinstance(quota, str) and _QUOTA_RE.match(quota.strip())):
                _fail(f"{what} has quota {quota!r}: use a size such as 500M, 2G or 1T")
            return quota.strip()
        if quota_class in (None, ""):
            quota_class = spec.get("_default_quota_class")
            if quota_class is None:
                return None
        if str(quota_class) not in self.quota_classes:
            _fail(f"{what} has unknown quota class '{quota_class}'; known: "
                  f"{', '.join(sorted(self.quota_classes)) or 'none (set mail_quota_classes)'}")
        return self.quota_classes[str(quota_class)]

    @staticmethod
    def lifecycle(spec, what, out):
        state = spec.get("state")
        if state not in (None, ""):
            state = str(state).strip().lower()
            if state not in STATES:
                _fail(f"{what} has unknown state '{spec.get('state')}'; known: {', '.join(STATES)}")
            out["state"] = state
        departed_on = spec.get("departed_on")
        if departed_on not in (None, ""):
            if isinstance(departed_on, datetime.date):
                departed_on = departed_on.isoformat()
            try:
                datetime.date.fromisoformat(str(departed_on).strip())
            except ValueError:
                _fail(f"{what} has a malformed departed_on '{departed_on}' (want YYYY-MM-DD)")
            out["departed_on"] = str(departed_on).strip()
        if out.get("state") == "departed" and "departed_on" not in out:
            _fail(f"{what} is departed but has no departed_on (YYYY-MM-DD)")

    # -- agencies -----------------------------------------------------------

    def add_agency(self, agency, parent, index):
        where = f"sub-unit #{index + 1} of agency '{parent['code']}'" if parent else f"agency #{index + 1}"
        if not isinstance(agency, dict):
            _fail(f"{where} must be a mapping with code, name and mailbox")
        code = agency.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code.strip()):
            _fail(f"{where} has no valid code (letters, digits, . _ -): {code!r}")
        code = code.strip()
        name = agency.get("name")
        if not isinstance(name, str) or not name.strip():
            _fail(f"agency '{code}' has no name")
        label = f"agency '{code}' ({_clean_name(name)})"
        _unknown_keys(agency, _AGENCY_KEYS, label)
        key = code.upper()
        if key in self.agencies:
            _fail(f"{self.agencies[key]['label']} and {label} have the same code '{code}'")
        domain = agency.get("domain")
        if domain in (None, ""):
            domain = parent["domain"] if parent else self.served[0]
        elif not isinstance(domain, str) or not _names.mail_valid_domain(domain.strip()):
            _fail(f"{label} has an invalid domain '{domain}'")
        else:
            domain = domain.strip().lower()
            if domain not in self.served:
                _fail(f"{label} has the domain '{domain}', which is not served: {', '.join(self.served)}")
        info = {"code": code, "name": _clean_name(name), "label": label, "domain": domain,
                "parent": parent["code"].upper() if parent else None, "members": [], "list": None}
        self.agencies[key] = info
        self.agency_order.append(key)
        self.agency_aliases[key] = []

        mailbox = agency.get("mailbox")
        if mailbox in (None, {}):
            if parent is None:
                _fail(f"{label} has no unit mailbox (mailbox: {{address: ...}})")
            mailboxes = []
        else:
            mailboxes = [mailbox]
        extra = agency.get("mailboxes")
        if extra is not None:
            mailboxes += _as_list(extra, f"{label}: mailboxes")
        for position, spec in enumerate(mailboxes):
            self.add_unit_mailbox(info, spec, position)

        agency_list = agency.get("list")
        if agency_list not in (None, ""):
            if isinstance(agency_list, str):
                agency_list = {"address": agency_list}
            if not isinstance(agency_list, dict):
                _fail(f"{label}: list must be an address or a mapping with address")
            what = f"the list of {label}"
            _unknown_keys(agency_list, _AGENCY_LIST_KEYS, what)
            address = self.full_address(agency_list.get("address"), domain, what)
            self.claim(address, f"{what} ('{address}')")
            info["list"] = {"address": address, "senders": _as_list(agency_list.get("senders"), f"{what}: senders"),
                            "what": what, "domain": domain, "spec": agency_list}

        units = agency.get("units")
        for sub_index, unit in enumerate(_as_list(units, f"{label}: units")):
            self.add_agency(unit, info, sub_index)

    def add_unit_mailbox(self, info, spec, position):
        where = f"the unit mailbox of {info['label']}" if position == 0 else \
            f"shared mailbox #{position} of {info['label']}"
        if isinstance(spec, str):
            spec = {"address": spec}
        if not isinstance(spec, dict):
            _fail(f"{where} must be a mapping with address")
        _unknown_keys(spec, _MAILBOX_KEYS, where)
        address = self.full_address(spec.get("address"), info["domain"], where)
        what = f"{where} ('{address}')"
        self.claim(address, what)
        name = spec.get("name")
        account = {"address": address,
                   "name": _clean_name(name) if isinstance(name, str) and name.strip() else info["name"],
                   "agency": info["code"], "shared": True}
        self.lifecycle(spec, what, account)
        quota = self.quota(spec, what)
        if quota is not None:
            account["quota"] = quota
        self.unit_accounts.append(account)
        aliases = _as_list(spec.get("aliases"), f"{what}: aliases")
        senders = _as_list(spec.get("senders"), f"{what}: senders")
        if senders:
            self.unit_senders.append((account, senders, info["domain"], what))
        for alias in aliases:
            alias_address = self.full_address(alias, info["domain"], f"an alias of {what}")
            self.claim(alias_address, f"the alias '{alias_address}' of {what}")
            self.agency_aliases[info["code"].upper()].append(
                {"address": alias_address, "to": [address], "sender_refs": senders, "self": address,
                 "what": f"the alias '{alias_address}' of {what}", "domain": info["domain"]})

    # -- people -------------------------------------------------------------

    def add_people(self, people):
        if not isinstance(people, (list, tuple)):
            _fail(f"mail_directory expects a list of people, got {type(people).__name__}")
        records = []
        ids = {}
        identical = {}
        for index, person in enumerate(people):
            if not isinstance(person, dict):
                _fail(f"person #{index + 1} must be a mapping with at least name and agency")
            name = person.get("name")
            if not isinstance(name, str) or not name.strip():
                _fail(f"person #{index + 1} has no name")
            name = _clean_name(name)
            label = f"person '{name}'"
            if person.get("id") not in (None, ""):
                label += f" (id {person['id']})"
            _unknown_keys(person, _PERSON_KEYS, label)
            code = person.get("agency")
            if not isinstance(code, str) or not code.strip():
                _fail(f"{label} has no agency")
            agency = self.agencies.get(code.strip().upper())
            if agency is None:
                _fail(f"{label} has unknown agency '{code}'; known: "
                      f"{', '.join(self.agencies[k]['code'] for k in self.agency_order)}")
            label += f" of agency '{agency['code']}'"
            record = {"name": name}
            pid = person.get("id")
            if pid not in (None, ""):
                if str(pid) in ids:
                    _fail(f"{ids[str(pid)]} and {label} have the same id '{pid}'")
                ids[str(pid)] = label
                record["id"] = pid
            record["agency"] = agency["code"]
            role = person.get("role")
            role = "staff" if role in (None, "") else str(role).strip().lower()
            if role not in self.roles:
                _fail(f"{label} has unknown role '{person.get('role')}'; known: {', '.join(self.roles)}")
            record["role"] = role
            self.lifecycle(person, label, record)
            quota = self.quota(dict(person, _default_quota_class=self.default_quota_class), label)
            if quota is not None:
                record["quota"] = quota
            explicit = person.get("address")
            if explicit not in (None, ""):
                record["address"] = self.full_address(explicit, agency["domain"], label)
                self.claim(record["address"], label)
            fingerprint = repr(sorted((k, str(v)) for k, v in record.items()))
            if fingerprint in identical:
                _fail(f"{identical[fingerprint]} and {label} (#{index + 1}) are the same record; "
                      "remove one, or give each an id if they are two people")
            identical[fingerprint] = f"{label} (#{index + 1})"
            records.append((record, agency, label))
        return records

    def assign(self, records):
        """Addresses for people; returns (accounts, collisions)."""
        explicit = {record["address"] for record, _agency, _label in records if "address" in record}
        reserved = [{"name": label, "address": address} for address, label in sorted(self.owners.items())
                    if address not in explicit]
        entries = [dict(record, domain=agency["domain"]) for record, agency, _label in records]
        assigned = _names.mail_assign_addresses(reserved + entries, None, self.pattern)[len(reserved):]
        accounts = []
        collisions = []
        for (record, agency, label), result in zip(records, assigned):
            account = {"address": result["address"]}
            account.update((k, v) for k, v in record.items() if k != "address")
            accounts.append(account)
            if result.get("address_collision"):
                collisions.append({"address": result["address"], "base": result["address_base"],
                                   "name": record["name"], "agency": record["agency"], "id": record.get("id")})
            agency_key = agency["code"].upper()
            while agency_key is not None:
                self.agencies[agency_key]["members"].append(account["address"])
                agency_key = self.agencies[agency_key]["parent"]
        # by base, then by suffix (locnv2 before locnv10)
        collisions.sort(key=lambda c: (c["base"], len(c["address"]), c["address"]))
        return accounts, collisions

    # -- senders and lists ---------------------------------------------------

    def resolve_senders(self, refs, domain, what, by_id, accounts):
        out = []
        for ref in refs:
            if not isinstance(ref, (str, int)) or isinstance(ref, bool) or str(ref).strip() == "":
                _fail(f"{what} has a sender that is not an id or address: {ref!r}")
            text = str(ref).strip()
            if text in by_id:
                address = by_id[text]
            else:
                address = text.lower() if "@" in text else f"{text.lower()}@{domain}"
                if address not in accounts:
                    _fail(f"{what} has the sender '{text}', which is neither a person's id nor a mailbox "
                          "of the directory")
            if address not in out:
                out.append(address)
        return out

    def posting(self, spec, domain, what, by_id, accounts):
        """The posting policy keys of a list or extra alias (default internal), its senders resolved."""
        policy = spec.get("posting", "internal")
        if policy not in _POLICIES:
            _fail(f"{what}: posting '{policy}' is none of {', '.join(_POLICIES)}")
        refs = _as_list(spec.get("posting_senders"), f"{what}: posting_senders")
        if policy != "senders":
            if refs:
                _fail(f"{what}: posting_senders is only for posting 'senders' (it is '{policy}')")
            return {"posting": policy}
        if not refs:
            _fail(f"{what}: posting 'senders' needs posting_senders (ids or addresses of the directory)")
        return {"posting": policy, "posting_senders": self.resolve_senders(refs, domain, what, by_id, accounts)}


def _alias(address, to, senders, posting):
    alias = {"address": address, "to": to}
    if senders:
        alias["senders"] = senders
    alias.update(posting)
    return alias


def mail_directory(agencies, people, domains, pattern="{given}{initials}", quota_classes=None,
                   default_quota_class=None, lists=None, aliases=None, roles=None):
    """Mailboxes, aliases and the collision report of a province (see DOCUMENTATION)."""
    directory = _Directory(domains, pattern, quota_classes, default_quota_class, roles)
    if not isinstance(agencies, (list, tuple)) or not agencies:
        _fail("mail_directory expects a non-empty list of agencies")
    for index, agency in enumerate(agencies):
        directory.add_agency(agency, None, index)

    # Province-wide lists and extra aliases claim their addresses before people do.
    def claimed(items, kind, keys, shape):
        """(address, spec, what) for each list or alias entry, its address claimed."""
        for index, spec in enumerate(_as_list(items, f"mail_directory: {kind}s")):
            if not isinstance(spec, dict):
                _fail(f"{kind} #{index + 1} must be a mapping with {shape}")
            _unknown_keys(spec, keys, f"{kind} #{index + 1}")
            address = directory.full_address(spec.get("address"), directory.served[0], f"{kind} #{index + 1}")
            what = f"the {kind} '{address}'"
            directory.claim(address, what)
            yield address, spec, what

    list_specs = list(claimed(lists, "list", _LIST_KEYS, "address"))
    extra_specs = []
    for address, spec, what in claimed(aliases, "alias", _ALIAS_KEYS, "address and to"):
        targets = _as_list(spec.get("to"), f"{what}: to")
        if not targets:
            _fail(f"{what} has no targets (to: [...])")
        for target in targets:
            if not _names.mail_valid_address(target):
                _fail(f"{what} has an invalid target '{target}'")
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
        wanted_roles = [str(r).strip().lower() for r in _as_list(spec.get("roles"), f"{what}: roles")]
        for role in wanted_roles:
            if role not in directory.roles:
                _fail(f"{what} selects unknown role '{role}'; known: {', '.join(directory.roles)}")
        codes = _as_list(spec.get("agencies"), f"{what}: agencies")
        allowed = None
        if codes:
            allowed = set()
            for code in codes:
                key = str(code).strip().upper()
                if key not in directory.agencies:
                    _fail(f"{what} selects unknown agency '{code}'")
                allowed.update(directory.agencies[key]["members"])
        members = [a["address"] for a in people_accounts
                   if (not wanted_roles or a["role"] in wanted_roles) and (allowed is None or a["address"] in allowed)]
        if not members:
            _fail(f"{what} selects nobody (roles {wanted_roles or 'any'}, agencies {codes or 'any'})")
        senders = directory.resolve_senders(_as_list(spec.get("senders"), f"{what}: senders"),
                                            address.split("@", 1)[1], what, by_id, all_addresses)
        out_aliases.append(_alias(address, members, senders,
                                  directory.posting(spec, address.split("@", 1)[1], what, by_id, all_addresses)))

    for key in directory.agency_order:
        info = directory.agencies[key]
        for draft in directory.agency_aliases[key]:
            senders = [draft["self"]] + directory.resolve_senders(
                draft["sender_refs"], draft["domain"], draft["what"], by_id, all_addresses)
            # a unit's other address is as public as the unit mailbox itself
            out_aliases.append(_alias(draft["address"], draft["to"], list(dict.fromkeys(senders)),
                                      {"posting": "public"}))
        if info["list"] is not None:
            spec = info["list"]
            if not info["members"]:
                _fail(f"{spec['what']} ('{spec['address']}') has no members: nobody belongs to {info['label']}")
            senders = directory.resolve_senders(spec["senders"], spec["domain"], spec["what"], by_id, all_addresses)
            out_aliases.append(_alias(spec["address"], list(info["members"]), senders, directory.posting(
                spec["spec"], spec["domain"], spec["what"], by_id, all_addresses)))

    for address, targets, spec, what in extra_specs:
        senders = directory.resolve_senders(_as_list(spec.get("senders"), f"{what}: senders"),
                                            address.split("@", 1)[1], what, by_id, all_addresses)
        out_aliases.append(_alias(address, targets, senders,
                                  directory.posting(spec, address.split("@", 1)[1], what, by_id, all_addresses)))

    parents = {}
    for key in directory.agency_order:
        parent = directory.agencies[key]["parent"]
        parents[directory.agencies[key]["code"]] = directory.agencies[parent]["code"] if parent else None
    return {"accounts": accounts, "aliases": out_aliases, "collisions": collisions, "agency_parents": parents}


def mail_directory_aliases(directory, effective_accounts):
    """``directory.aliases`` with targets that cannot receive removed (see the module docstring)."""
    if not isinstance(directory, dict) or "aliases" not in directory or "accounts" not in directory:
        _fail("mail_directory_aliases expects the result of mail_directory")
    if not isinstance(effective_accounts, (list, tuple)):
        _fail("mail_directory_aliases expects the effective accounts (the output of mail_apply_lifecycle)")
    receive = {}
    for account in effective_accounts:
        if not isinstance(account, dict) or "receive" not in account:
            _fail("mail_directory_aliases: every effective account needs 'receive' (use mail_apply_lifecycle)")
        receive[str(account.get("address", "")).strip().lower()] = bool(account["receive"])
    ours = {a["address"] for a in directory["accounts"]}
    result = []
    for alias in directory["aliases"]:
        targets = []
        for target in alias["to"]:
            if target in ours:
                if target not in receive:
                    _fail(f"alias '{alias['address']}': '{target}' is not among the effective accounts "
                          "(pass mail_accounts_effective made from the same directory)")
                if not receive[target]:
                    continue
            targets.append(target)
        if targets:
            result.append(_alias(alias["address"], targets, alias.get("senders"),
                                 {k: alias[k] for k in ("posting", "posting_senders") if k in alias}))
    return result


def mail_agency_mailboxes(accounts, parents):
    """{agency code: sorted addresses of it and its sub-units} (see the module docstring)."""
    if not isinstance(parents, dict):
        _fail("mail_agency_mailboxes expects the agency tree as a mapping code -> parent code or null "
              f"(mail_directory_result.agency_parents), got {type(parents).__name__}")
    if not isinstance(accounts, (list, tuple)):
        _fail("mail_agency_mailboxes expects the effective accounts (the output of mail_apply_lifecycle)")
    codes = {}  # upper -> as written
    for code in parents:
        if not isinstance(code, str) or not code.strip():
            _fail(f"mail_agency_mailboxes: agency code {code!r} is not a code")
        key = code.strip().upper()
        if key in codes:
            _fail(f"mail_agency_mailboxes: agencies '{codes[key]}' and '{code}' are the same code")
        codes[key] = code
    parent_of = {}
    for code, parent in parents.items():
        if parent in (None, ""):
            parent_of[code.strip().upper()] = None
            continue
        if not isinstance(parent, str) or parent.strip().upper() not in codes:
            _fail(f"agency '{code}' has unknown parent '{parent}'; known: {', '.join(parents)}")
        parent_of[code.strip().upper()] = parent.strip().upper()
    for key in parent_of:
        seen = [key]
        up = parent_of[key]
        while up is not None:
            if up in seen:
                cycle = seen[seen.index(up):] + [up]
                _fail(f"agency tree has a cycle: {' -> '.join(codes[k] for k in cycle)}")
            seen.append(up)
            up = parent_of[up]
    members = {key: set() for key in codes}
    for account in accounts:
        if not isinstance(account, dict):
            _fail("mail_agency_mailboxes: every account must be a mapping with address")
        agency = account.get("agency")
        if agency in (None, ""):
            continue
        address = str(account.get("address", "")).strip().lower()
        key = str(agency).strip().upper()
        if key not in codes:
            _fail(f"account '{address}' has unknown agency '{agency}'; known: {', '.join(parents)}")
        if account.get("action") == "archive_then_remove":
            continue
        while key is not None:
            members[key].add(address)
            key = parent_of[key]
    return {codes[key]: sorted(members[key]) for key in codes}


class FilterModule:
    """Agency directory filters."""

    def filters(self):
        return {
            "mail_directory": mail_directory,
            "mail_directory_aliases": mail_directory_aliases,
            "mail_agency_mailboxes": mail_agency_mailboxes,
        }
