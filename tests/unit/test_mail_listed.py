"""The mail role's declaration of the account model (issue #15): the fields of the accounts and
aliases an inventory lists literally (plugins/plugin_utils/listed.py, the filter
mail_listed_problems) and the shape of the directory in roles/mail/meta/argument_specs.yml.

- A problem of a listed account or alias names the variable, the entry and the field.
- Every entry the argument spec of session 16 accepted (its suboptions, kept below as OLD_FIELDS)
  is accepted, and every entry it refused is refused: the same validator, the same declarations.
- The spec's descriptions name every field the directory and the listed check accept, and the
  data of every inventory of this repository passes the spec and the check.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.gialai.mail.plugins.plugin_utils import directory_model
from ansible_collections.gialai.mail.plugins.plugin_utils.listed import (
    ACCOUNT_FIELDS,
    ALIAS_FIELDS,
    mail_listed_problems,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "roles" / "mail" / "meta" / "argument_specs.yml").read_text())["argument_specs"]
OPTIONS = SPEC["main"]["options"]

# roles/mail/meta/argument_specs.yml of session 16: mail_accounts and mail_aliases with their fields.
OLD_FIELDS = yaml.safe_load("""\
mail_accounts:
  type: list
  elements: dict
  options:
    address: {type: str, required: true}
    name: {type: str}
    password: {type: str, no_log: true}
    password_hash: {type: str, no_log: true}
    quota: {type: str}
    state: {type: str}
    departed_on: {type: raw}
    role: {type: str}
    agency: {type: str}
    senders: {type: list, elements: str}
    shared: {type: bool}
mail_aliases:
  type: list
  elements: dict
  options:
    address: {type: str, required: true}
    to: {type: list, elements: str, required: true}
    senders: {type: list, elements: str}
    posting: {type: str, choices: [internal, members, senders, public]}
    posting_senders: {type: list, elements: str}
""")

ACCOUNT = {"address": "thuky@gialai.gov.vn", "password": "Hop#Le2026abc"}
ALIAS = {"address": "vanthu@gialai.gov.vn", "to": ["thuky@gialai.gov.vn"]}
# Entries both ways of checking must judge alike (known fields only: the old spec named an
# unknown one without its account, which is what changed).
ACCOUNT_CASES = [
    ACCOUNT,
    dict(ACCOUNT, name="Thư ký", quota="2G", state="departed", departed_on="2026-06-30", role="leader",
         agency="VP", senders=["hoatt@gialai.gov.vn"], shared=False),
    dict(ACCOUNT, password_hash="{BLF-CRYPT}$2y$05$abc", quota=5, shared="yes", senders="a@gialai.gov.vn,b@gialai.gov.vn"),
    dict(ACCOUNT, departed_on=None, name=None),
    {"password": "Hop#Le2026abc"},
    {"address": None},
    dict(ACCOUNT, shared="maybe"),
    dict(ACCOUNT, senders={"a": 1}),
    dict(ACCOUNT, shared=2),
]
ALIAS_CASES = [
    ALIAS,
    dict(ALIAS, to="a@gialai.gov.vn", senders=["b@gialai.gov.vn"], posting="senders", posting_senders=["c"]),
    dict(ALIAS, posting="open"),
    dict(ALIAS, posting=None),
    {"address": "x@gialai.gov.vn"},
    {"to": ["a@gialai.gov.vn"]},
    dict(ALIAS, to={"a": 1}),
]


def _old_accepts(variable: str, entry: dict) -> bool:
    return not ArgumentSpecValidator({variable: OLD_FIELDS[variable]}).validate({variable: [entry]}).error_messages


@pytest.mark.parametrize("variable, entry", [("mail_accounts", e) for e in ACCOUNT_CASES]
                         + [("mail_aliases", e) for e in ALIAS_CASES])
def test_accepted_exactly_as_the_old_spec_accepted(variable, entry):
    assert (mail_listed_problems([entry], variable) == []) == _old_accepts(variable, entry), entry


def test_the_declarations_are_the_old_spec_s():
    for variable, fields in (("mail_accounts", ACCOUNT_FIELDS), ("mail_aliases", ALIAS_FIELDS)):
        assert {n: {k: v for k, v in f.items() if k != "description"} for n, f in fields.items()} == \
            OLD_FIELDS[variable]["options"]
        assert all(f.get("description") for f in fields.values())


def test_an_unknown_field_names_the_account_and_the_field():
    entries = [ACCOUNT, dict(ACCOUNT, address="x@gialai.gov.vn", quota_clas="leader", Quota="2G")]
    assert mail_listed_problems(entries, "mail_accounts") == [
        "mail_accounts: account 'x@gialai.gov.vn' has unknown field(s) Quota, quota_clas; known: address, agency, "
        "departed_on, name, password, password_hash, quota, role, senders, shared, state"]
    assert mail_listed_problems([dict(ALIAS, member=["a@gialai.gov.vn"])], "mail_aliases") == [
        "mail_aliases: alias 'vanthu@gialai.gov.vn' has unknown field(s) member; known: address, posting, "
        "posting_senders, senders, to"]


def test_other_problems_name_the_entry_by_address_or_position():
    problems = mail_listed_problems([ACCOUNT, {"name": "Ai", "shared": "maybe", "password": "Bi-mat-2026!"}, "x"],
                                    "mail_accounts")
    assert problems[0] == "mail_accounts: account #2: missing required arguments: address"
    assert problems[1].startswith("mail_accounts: account #2: argument 'shared' is of type str and we were unable "
                                  "to convert to bool: The value 'maybe' is not a valid boolean.")
    assert problems[2] == "mail_accounts: account #3 is not a mapping (address: ...)"
    assert len(problems) == 3 and not any("Bi-mat" in p for p in problems)
    assert mail_listed_problems([dict(ALIAS, posting="open"), {"address": "y@gialai.gov.vn"}], "mail_aliases") == [
        "mail_aliases: alias 'vanthu@gialai.gov.vn': value of posting must be one of: internal, members, senders, "
        "public, got: open",
        "mail_aliases: alias 'y@gialai.gov.vn': missing required arguments: to"]


def test_what_the_argument_spec_reports_is_left_to_it():
    assert mail_listed_problems("not a list", "mail_accounts") == []
    assert mail_listed_problems(None, "mail_aliases") == []
    with pytest.raises(ValueError, match="mail_accounts, mail_aliases"):
        mail_listed_problems([], "mail_people")


def _named(option: str) -> set[str]:
    return set(re.findall(r"C\(([a-z_]+)\)", OPTIONS[option]["description"]))


@pytest.mark.parametrize("option, keys", [
    ("mail_agencies", directory_model.AGENCY_KEYS + directory_model.MAILBOX_KEYS + directory_model.AGENCY_LIST_KEYS),
    ("mail_people", directory_model.PERSON_KEYS),
    ("mail_lists", directory_model.LIST_KEYS),
    ("mail_extra_aliases", directory_model.ALIAS_KEYS),
    ("mail_accounts", tuple(ACCOUNT_FIELDS)),
    ("mail_aliases", tuple(ALIAS_FIELDS)),
])
def test_the_spec_names_every_field_of_the_real_shape(option, keys):
    """The spec is where a newcomer reads the account model: each field the code accepts is named
    there, and nothing else is named as a field."""
    assert _named(option) == set(keys)
    assert OPTIONS[option]["type"] == "list" and OPTIONS[option]["elements"] == "dict"
    assert "options" not in OPTIONS[option], "fields are checked naming the entry, not by the spec"


def test_the_extra_aliases_have_the_listed_aliases_fields():
    assert set(directory_model.ALIAS_KEYS) == set(ALIAS_FIELDS)


def _inventory_data(*files: str) -> dict:
    data: dict = {}
    for name in files:
        data.update(yaml.safe_load((ROOT / name).read_text()))
    return data


@pytest.mark.parametrize("files", [
    ("inventories/lab/group_vars/all/mail.yml",),
    ("inventories/production/group_vars/all/mail.yml",),
    ("inventories/lab/group_vars/all/mail.yml", "molecule/edge/group_vars/edge_partner/edge_partner.yml"),
], ids=["lab", "production", "edge_partner"])
def test_every_inventory_s_data_passes_the_spec_and_the_check(files):
    data = _inventory_data(*files)
    # networks the lab templates from other values (lab.yml); their shape is all that counts here
    data = dict({"mail_admin_networks": ["10.10.0.0/24"], "mail_admin_bastions": ["10.10.0.10/32"],
                 "mail_agency_networks": []}, **{k: v for k, v in data.items() if k in OPTIONS})
    assert ArgumentSpecValidator(OPTIONS).validate(data).error_messages == []
    assert SPEC["validate"] == SPEC["main"]
    for variable in ("mail_accounts", "mail_aliases"):
        assert mail_listed_problems(data.get(variable, []), variable) == []
