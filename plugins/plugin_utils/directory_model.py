"""The working model behind ``mail_directory`` (``directory.py``): the agency tree, unit
mailboxes, people and the addresses they claim, with the checks that name the offending item.

``Directory`` collects agencies (``add_agency``), people (``add_people``) and their addresses
(``assign``); ``directory.py`` turns it into accounts, aliases and lists. The name and address
rules are those of ``names.py``, the quota syntax that of ``validate.py``, the account states
those of ``lifecycle.py`` and the posting policies those of ``posting.py``: each is defined once.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import STATES
from ansible_collections.gialai.mail.plugins.plugin_utils.names import check_pattern, mail_assign_addresses, mail_valid_address, mail_valid_domain
from ansible_collections.gialai.mail.plugins.plugin_utils.posting import POLICIES
from ansible_collections.gialai.mail.plugins.plugin_utils.validate import QUOTA_RE

DEFAULT_ROLES = ("staff", "leader", "director", "deputy_director", "head")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

AGENCY_KEYS = ("code", "name", "domain", "mailbox", "mailboxes", "list", "units")
MAILBOX_KEYS = ("address", "name", "quota", "quota_class", "state", "departed_on", "aliases", "senders")
PERSON_KEYS = ("name", "id", "agency", "role", "state", "departed_on", "address", "quota", "quota_class")
LIST_KEYS = ("address", "name", "roles", "agencies", "senders", "posting", "posting_senders")
AGENCY_LIST_KEYS = ("address", "name", "senders", "posting", "posting_senders")
ALIAS_KEYS = ("address", "to", "senders", "posting", "posting_senders")


def fail(message):
    raise AnsibleFilterError(message)


def clean_name(value):
    return unicodedata.normalize("NFC", " ".join(value.split()))


def as_list(value, what):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        fail(f"{what} must be a list")
    return list(value)


def unknown_keys(mapping, allowed, what):
    unknown = sorted(str(k) for k in mapping if k not in allowed)
    if unknown:
        fail(f"{what} has unknown field(s) {', '.join(unknown)}; known: {', '.join(allowed)}")


class Directory:
    def __init__(self, domains, pattern, quota_classes, default_quota_class, roles):
        if isinstance(domains, str):
            domains = [domains]
        if not isinstance(domains, (list, tuple)) or not domains:
            fail("mail_directory: no served domains given (a list such as ['gialai.gov.vn'])")
        self.served = []
        for domain in domains:
            if not isinstance(domain, str) or not mail_valid_domain(domain.strip()):
                fail(f"served domain '{domain}' is not a valid domain name")
            self.served.append(domain.strip().lower())
        check_pattern(pattern)
        self.pattern = pattern

        if quota_classes is None:
            quota_classes = {}
        if not isinstance(quota_classes, dict):
            fail("mail_directory: quota_classes must be a mapping class -> size such as {unit: 5G}")
        self.quota_classes = {}
        for name, size in quota_classes.items():
            if not (isinstance(size, str) and QUOTA_RE.match(size.strip())):
                fail(f"quota class '{name}' has size {size!r}: use a size such as 500M, 2G or 1T")
            self.quota_classes[str(name)] = size.strip()
        if default_quota_class is not None and str(default_quota_class) not in self.quota_classes:
            fail(f"default_quota_class '{default_quota_class}' is not a quota class; "
                  f"known: {', '.join(sorted(self.quota_classes)) or 'none'}")
        self.default_quota_class = default_quota_class

        roles = DEFAULT_ROLES if roles is None else as_list(roles, "mail_directory: roles")
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
            fail(f"{what} has no address")
        address = value.strip().lower()
        if "@" not in address:
            address = f"{address}@{domain}"
        if not mail_valid_address(address):
            fail(f"{what} has an invalid address '{address}'")
        if address.split("@", 1)[1] not in self.served:
            fail(f"{what} has the address '{address}' outside the served domains: {', '.join(self.served)}")
        return address

    def claim(self, address, label):
        if address in self.owners:
            fail(f"{self.owners[address]} and {label} both use the address '{address}'")
        self.owners[address] = label

    def quota(self, spec, what):
        quota = spec.get("quota")
        quota_class = spec.get("quota_class")
        if quota not in (None, ""):
            if not (isinstance(quota, str) and QUOTA_RE.match(quota.strip())):
                fail(f"{what} has quota {quota!r}: use a size such as 500M, 2G or 1T")
            return quota.strip()
        if quota_class in (None, ""):
            quota_class = spec.get("_default_quota_class")
            if quota_class is None:
                return None
        if str(quota_class) not in self.quota_classes:
            fail(f"{what} has unknown quota class '{quota_class}'; known: "
                  f"{', '.join(sorted(self.quota_classes)) or 'none (set mail_quota_classes)'}")
        return self.quota_classes[str(quota_class)]

    @staticmethod
    def lifecycle(spec, what, out):
        state = spec.get("state")
        if state not in (None, ""):
            state = str(state).strip().lower()
            if state not in STATES:
                fail(f"{what} has unknown state '{spec.get('state')}'; known: {', '.join(STATES)}")
            out["state"] = state
        departed_on = spec.get("departed_on")
        if departed_on not in (None, ""):
            if isinstance(departed_on, datetime.date):
                departed_on = departed_on.isoformat()
            try:
                datetime.date.fromisoformat(str(departed_on).strip())
            except ValueError:
                fail(f"{what} has a malformed departed_on '{departed_on}' (want YYYY-MM-DD)")
            out["departed_on"] = str(departed_on).strip()
        if out.get("state") == "departed" and "departed_on" not in out:
            fail(f"{what} is departed but has no departed_on (YYYY-MM-DD)")

    # -- agencies -----------------------------------------------------------

    def add_agency(self, agency, parent, index):
        where = f"sub-unit #{index + 1} of agency '{parent['code']}'" if parent else f"agency #{index + 1}"
        if not isinstance(agency, dict):
            fail(f"{where} must be a mapping with code, name and mailbox")
        code = agency.get("code")
        if not isinstance(code, str) or not _CODE_RE.match(code.strip()):
            fail(f"{where} has no valid code (letters, digits, . _ -): {code!r}")
        code = code.strip()
        name = agency.get("name")
        if not isinstance(name, str) or not name.strip():
            fail(f"agency '{code}' has no name")
        label = f"agency '{code}' ({clean_name(name)})"
        unknown_keys(agency, AGENCY_KEYS, label)
        key = code.upper()
        if key in self.agencies:
            fail(f"{self.agencies[key]['label']} and {label} have the same code '{code}'")
        domain = agency.get("domain")
        if domain in (None, ""):
            domain = parent["domain"] if parent else self.served[0]
        elif not isinstance(domain, str) or not mail_valid_domain(domain.strip()):
            fail(f"{label} has an invalid domain '{domain}'")
        else:
            domain = domain.strip().lower()
            if domain not in self.served:
                fail(f"{label} has the domain '{domain}', which is not served: {', '.join(self.served)}")
        info = {"code": code, "name": clean_name(name), "label": label, "domain": domain,
                "parent": parent["code"].upper() if parent else None, "members": [], "list": None}
        self.agencies[key] = info
        self.agency_order.append(key)
        self.agency_aliases[key] = []

        mailbox = agency.get("mailbox")
        if mailbox in (None, {}):
            if parent is None:
                fail(f"{label} has no unit mailbox (mailbox: {{address: ...}})")
            mailboxes = []
        else:
            mailboxes = [mailbox]
        extra = agency.get("mailboxes")
        if extra is not None:
            mailboxes += as_list(extra, f"{label}: mailboxes")
        for position, spec in enumerate(mailboxes):
            self.add_unit_mailbox(info, spec, position)

        agency_list = agency.get("list")
        if agency_list not in (None, ""):
            if isinstance(agency_list, str):
                agency_list = {"address": agency_list}
            if not isinstance(agency_list, dict):
                fail(f"{label}: list must be an address or a mapping with address")
            what = f"the list of {label}"
            unknown_keys(agency_list, AGENCY_LIST_KEYS, what)
            address = self.full_address(agency_list.get("address"), domain, what)
            self.claim(address, f"{what} ('{address}')")
            info["list"] = {"address": address, "senders": as_list(agency_list.get("senders"), f"{what}: senders"),
                            "what": what, "domain": domain, "spec": agency_list}

        units = agency.get("units")
        for sub_index, unit in enumerate(as_list(units, f"{label}: units")):
            self.add_agency(unit, info, sub_index)

    def add_unit_mailbox(self, info, spec, position):
        where = f"the unit mailbox of {info['label']}" if position == 0 else \
            f"shared mailbox #{position} of {info['label']}"
        if isinstance(spec, str):
            spec = {"address": spec}
        if not isinstance(spec, dict):
            fail(f"{where} must be a mapping with address")
        unknown_keys(spec, MAILBOX_KEYS, where)
        address = self.full_address(spec.get("address"), info["domain"], where)
        what = f"{where} ('{address}')"
        self.claim(address, what)
        name = spec.get("name")
        account = {"address": address,
                   "name": clean_name(name) if isinstance(name, str) and name.strip() else info["name"],
                   "agency": info["code"], "shared": True}
        self.lifecycle(spec, what, account)
        quota = self.quota(spec, what)
        if quota is not None:
            account["quota"] = quota
        self.unit_accounts.append(account)
        aliases = as_list(spec.get("aliases"), f"{what}: aliases")
        senders = as_list(spec.get("senders"), f"{what}: senders")
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
            fail(f"mail_directory expects a list of people, got {type(people).__name__}")
        records = []
        ids = {}
        identical = {}
        for index, person in enumerate(people):
            if not isinstance(person, dict):
                fail(f"person #{index + 1} must be a mapping with at least name and agency")
            name = person.get("name")
            if not isinstance(name, str) or not name.strip():
                fail(f"person #{index + 1} has no name")
            name = clean_name(name)
            label = f"person '{name}'"
            if person.get("id") not in (None, ""):
                label += f" (id {person['id']})"
            unknown_keys(person, PERSON_KEYS, label)
            code = person.get("agency")
            if not isinstance(code, str) or not code.strip():
                fail(f"{label} has no agency")
            agency = self.agencies.get(code.strip().upper())
            if agency is None:
                fail(f"{label} has unknown agency '{code}'; known: "
                      f"{', '.join(self.agencies[k]['code'] for k in self.agency_order)}")
            label += f" of agency '{agency['code']}'"
            record = {"name": name}
            pid = person.get("id")
            if pid not in (None, ""):
                if str(pid) in ids:
                    fail(f"{ids[str(pid)]} and {label} have the same id '{pid}'")
                ids[str(pid)] = label
                record["id"] = pid
            record["agency"] = agency["code"]
            role = person.get("role")
            role = "staff" if role in (None, "") else str(role).strip().lower()
            if role not in self.roles:
                fail(f"{label} has unknown role '{person.get('role')}'; known: {', '.join(self.roles)}")
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
                fail(f"{identical[fingerprint]} and {label} (#{index + 1}) are the same record; "
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
        assigned = mail_assign_addresses(reserved + entries, None, self.pattern)[len(reserved):]
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
                fail(f"{what} has a sender that is not an id or address: {ref!r}")
            text = str(ref).strip()
            if text in by_id:
                address = by_id[text]
            else:
                address = text.lower() if "@" in text else f"{text.lower()}@{domain}"
                if address not in accounts:
                    fail(f"{what} has the sender '{text}', which is neither a person's id nor a mailbox "
                          "of the directory")
            if address not in out:
                out.append(address)
        return out

    def posting(self, spec, domain, what, by_id, accounts):
        """The posting policy keys of a list or extra alias (default internal), its senders resolved."""
        policy = spec.get("posting", "internal")
        if policy not in POLICIES:
            fail(f"{what}: posting '{policy}' is none of {', '.join(POLICIES)}")
        refs = as_list(spec.get("posting_senders"), f"{what}: posting_senders")
        if policy != "senders":
            if refs:
                fail(f"{what}: posting_senders is only for posting 'senders' (it is '{policy}')")
            return {"posting": policy}
        if not refs:
            fail(f"{what}: posting 'senders' needs posting_senders (ids or addresses of the directory)")
        return {"posting": policy, "posting_senders": self.resolve_senders(refs, domain, what, by_id, accounts)}


def make_alias(address, to, senders, posting):
    alias = {"address": address, "to": to}
    if senders:
        alias["senders"] = senders
    alias.update(posting)
    return alias
