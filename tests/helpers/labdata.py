"""The lab inventory's mail data, rendered as the mail_* layer renders it.

inventories/lab/group_vars/all/mail.yml describes the lab as agencies, units and
people (the directory path production uses); playbooks/group_vars/all/mail.yml
derives the accounts, their lifecycle and the aliases from it. Tests that need
the accounts or aliases as data (to log in, to extend the list, to count) read
them here: the same pure functions the filters wrap, called with the same
arguments as that layer (tests/unit/test_lab_directory.py checks both against
Ansible's own rendering).
"""

from __future__ import annotations

import datetime
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAB_VARS = ROOT / "inventories" / "lab" / "group_vars" / "all"

if str(ROOT / ".collections") not in sys.path:  # this checkout as the collection gialai.mail
    sys.path.insert(0, str(ROOT / ".collections"))


def inventory_mail(group_vars: pathlib.Path = LAB_VARS) -> dict:
    """The inventory's own mail.yml and vault.yml (data only), merged."""
    data = yaml.safe_load((group_vars / "mail.yml").read_text())
    data.update(yaml.safe_load((group_vars / "vault.yml").read_text()))
    return data


def render(data: dict) -> dict:
    """{accounts, effective, aliases, agency_parents, collisions} of an inventory's mail data,
    as playbooks/group_vars/all/mail.yml derives them (literal lists win over the directory)."""
    from ansible_collections.gialai.mail.plugins.plugin_utils.directory import (mail_directory,
                                                                               mail_directory_aliases)
    from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_apply_lifecycle

    directory = None
    if "mail_accounts" not in data or "mail_aliases" not in data or "mail_agency_parents" not in data:
        directory = mail_directory(
            data["mail_agencies"], data.get("mail_people", []), data["mail_domains"],
            pattern=data["mail_address_pattern"], quota_classes=data.get("mail_quota_classes"),
            default_quota_class=data.get("mail_default_quota_class"), lists=data.get("mail_lists"),
            aliases=data.get("mail_extra_aliases"))
    accounts = data["mail_accounts"] if "mail_accounts" in data else directory["accounts"]
    today = data.get("mail_lifecycle_date") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    effective = mail_apply_lifecycle(accounts, today, data.get("mail_retention_months"),
                                     data.get("mail_leader_retention_months"),
                                     passwords=data.get("vault_mail_passwords"))
    aliases = data["mail_aliases"] if "mail_aliases" in data else mail_directory_aliases(directory, effective)
    parents = data["mail_agency_parents"] if "mail_agency_parents" in data else directory["agency_parents"]
    return {"accounts": accounts, "effective": effective, "aliases": aliases, "agency_parents": parents,
            "collisions": directory["collisions"] if directory else []}


def lab_mail() -> dict:
    """The lab's rendered mail data (see render) plus its domains, host name and passwords."""
    data = inventory_mail()
    return {**render(data), "domains": data["mail_domains"], "hostname": data["mail_hostname"],
            "passwords": data["vault_mail_passwords"], "data": data}
