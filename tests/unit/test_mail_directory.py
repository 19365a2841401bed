import itertools
import pathlib
import unicodedata

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.directory import (
    mail_agency_mailboxes,
    mail_directory,
    mail_directory_aliases,
)
from ansible_collections.gialai.mail.plugins.plugin_utils.lifecycle import mail_apply_lifecycle
from filter_table import filters_from

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOMAINS = ["gialai.gov.vn"]
CLASSES = {"staff": "2G", "leader": "5G", "unit": "10G"}


def nfd(text):
    return unicodedata.normalize("NFD", text)


def agencies(full=True):
    result = [
        {"code": "VP", "name": "Văn phòng UBND tỉnh",
         "mailbox": {"address": "vanphong", "quota_class": "unit", "aliases": ["hanhchinh"], "senders": ["GL0002"]},
         "list": "vp",
         "units": [{"code": "VP-TH", "name": "Phòng Tổng hợp", "mailbox": {"address": "tonghop"},
                    "units": [{"code": "VP-TH-LT", "name": "Tổ Lưu trữ", "mailbox": {"address": "luutru", "quota": "1M"}}]}]},
        {"code": "SNV", "name": "Sở Nội vụ", "mailbox": "sonoivu"},
        {"code": "STC", "name": "Sở Tài chính", "mailbox": {"address": "sotaichinh"}, "list": {"address": "stc"}},
    ]
    if not full:  # for tests with their own people: no senders, no agency lists
        del result[0]["mailbox"]["senders"]
        del result[0]["list"]
        del result[2]["list"]
    return result


def people():
    return [
        {"id": "GL0001", "name": "Nguyễn Văn Lộc", "agency": "VP", "role": "leader", "quota_class": "leader"},
        {"id": "GL0002", "name": "Đặng Thị Đào", "agency": "VP-TH"},
        {"id": "GL0003", "name": "Nguyễn Vũ Lộc", "agency": "SNV"},
        {"id": "GL0004", "name": "Trần Văn Hùng", "agency": "VP-TH-LT", "state": "revoked"},
        {"id": "GL0005", "name": "Lê Thị Tâm", "agency": "STC", "role": "leader", "state": "suspended"},
        {"id": "GL0006", "name": "Phạm Văn Hùng", "agency": "STC", "state": "departed", "departed_on": "2026-01-15"},
    ]


LISTS = [{"address": "toantinh", "name": "Toàn tỉnh"},
         {"address": "lanhdao", "roles": ["leader"], "senders": ["vanphong"]},
         {"address": "lanhdao-vp", "roles": ["leader"], "agencies": ["VP"]}]


def build(agency_list=None, person_list=None, **kwargs):
    kwargs.setdefault("quota_classes", CLASSES)
    kwargs.setdefault("lists", LISTS)
    if agency_list is None:
        agency_list = agencies(full=person_list is None)
    return mail_directory(agency_list,
                          people() if person_list is None else person_list, DOMAINS, **kwargs)


def by_address(directory):
    return {a["address"]: a for a in directory["accounts"]}


def aliases(directory):
    return {a["address"]: a for a in directory["aliases"]}


def error(**kwargs):
    with pytest.raises(AnsibleFilterError) as exc:
        build(**kwargs)
    return exc.value.message


# --------------------------------------------------------------------------- accounts


@pytest.mark.control("ACC-07")
def test_accounts_of_units_and_people():
    directory = build(default_quota_class="staff")
    assert [a["address"] for a in directory["accounts"]] == [
        "vanphong@gialai.gov.vn", "tonghop@gialai.gov.vn", "luutru@gialai.gov.vn", "sonoivu@gialai.gov.vn",
        "sotaichinh@gialai.gov.vn",
        "locnv@gialai.gov.vn", "daodt@gialai.gov.vn", "locnv2@gialai.gov.vn", "hungtv@gialai.gov.vn",
        "tamlt@gialai.gov.vn", "hungpv@gialai.gov.vn"]
    accounts = by_address(directory)
    assert accounts["vanphong@gialai.gov.vn"] == {"address": "vanphong@gialai.gov.vn", "name": "Văn phòng UBND tỉnh",
                                                  "agency": "VP", "shared": True, "quota": "10G",
                                                  "senders": ["daodt@gialai.gov.vn"]}
    assert accounts["luutru@gialai.gov.vn"] == {"address": "luutru@gialai.gov.vn", "name": "Tổ Lưu trữ",
                                                "agency": "VP-TH-LT", "shared": True, "quota": "1M"}
    assert "quota" not in accounts["tonghop@gialai.gov.vn"]  # the default class is for people only
    assert accounts["locnv@gialai.gov.vn"] == {"address": "locnv@gialai.gov.vn", "name": "Nguyễn Văn Lộc",
                                               "id": "GL0001", "agency": "VP", "role": "leader", "quota": "5G"}
    assert accounts["daodt@gialai.gov.vn"]["quota"] == "2G"
    assert accounts["hungpv@gialai.gov.vn"] == {
        "address": "hungpv@gialai.gov.vn", "name": "Phạm Văn Hùng", "id": "GL0006", "agency": "STC",
        "role": "staff", "state": "departed", "departed_on": "2026-01-15", "quota": "2G"}


def test_no_quota_without_class_or_default():
    assert "quota" not in by_address(build())["daodt@gialai.gov.vn"]


@pytest.mark.control("ACC-07")
def test_unit_alias_grants_send_as_to_the_unit_and_its_senders():
    assert aliases(build())["hanhchinh@gialai.gov.vn"] == {
        "address": "hanhchinh@gialai.gov.vn", "to": ["vanphong@gialai.gov.vn"],
        "senders": ["vanphong@gialai.gov.vn", "daodt@gialai.gov.vn"], "posting": "public"}


@pytest.mark.control("ACC-07")
def test_unit_senders_may_send_as_the_unit_mailbox_itself():
    assert by_address(build())["vanphong@gialai.gov.vn"]["senders"] == ["daodt@gialai.gov.vn"]


def test_unit_senders_without_an_alias_grant_the_mailbox_address():
    agency_list = agencies()
    agency_list[1]["mailbox"] = {"address": "sonoivu", "senders": ["GL0003"]}
    result = build(agency_list=agency_list)
    assert by_address(result)["sonoivu@gialai.gov.vn"]["senders"] == ["locnv2@gialai.gov.vn"]
    assert "sonoivu@gialai.gov.vn" not in aliases(result)


def test_a_unit_without_senders_has_no_grant():
    assert "senders" not in by_address(build())["sotaichinh@gialai.gov.vn"]


def test_unknown_sender_names_the_unit():
    agency_list = agencies()
    agency_list[0]["mailbox"]["senders"] = ["GL9999"]
    message = error(agency_list=agency_list)
    assert "vanphong@gialai.gov.vn" in message and "GL9999" in message


@pytest.mark.control("ACC-07")
def test_lists_per_agency_and_province_wide():
    lists = aliases(build())
    # every person of VP and its sub-units (nested), in input order
    assert lists["vp@gialai.gov.vn"] == {"address": "vp@gialai.gov.vn", "to": [
        "locnv@gialai.gov.vn", "daodt@gialai.gov.vn", "hungtv@gialai.gov.vn"], "posting": "internal"}
    assert lists["stc@gialai.gov.vn"]["to"] == ["tamlt@gialai.gov.vn", "hungpv@gialai.gov.vn"]
    assert lists["toantinh@gialai.gov.vn"]["to"] == [
        "locnv@gialai.gov.vn", "daodt@gialai.gov.vn", "locnv2@gialai.gov.vn", "hungtv@gialai.gov.vn",
        "tamlt@gialai.gov.vn", "hungpv@gialai.gov.vn"]
    assert lists["lanhdao@gialai.gov.vn"] == {"address": "lanhdao@gialai.gov.vn",
                                              "to": ["locnv@gialai.gov.vn", "tamlt@gialai.gov.vn"],
                                              "senders": ["vanphong@gialai.gov.vn"], "posting": "internal"}
    assert lists["lanhdao-vp@gialai.gov.vn"]["to"] == ["locnv@gialai.gov.vn"]
    assert [a["address"].split("@")[0] for a in build()["aliases"]] == [
        "toantinh", "lanhdao", "lanhdao-vp", "hanhchinh", "vp", "stc"]


@pytest.mark.control("ACC-07")
def test_lists_keep_only_people_who_can_receive():
    directory = build()
    effective = mail_apply_lifecycle(directory["accounts"], "2026-11-28")
    result = {a["address"]: a for a in mail_directory_aliases(directory, effective)}
    # GL0004 revoked drops out; GL0005 suspended still receives; GL0006 departed 2026-01-15
    # (staff, 6 months) has expired on 2026-11-28 and drops out too.
    assert result["toantinh@gialai.gov.vn"]["to"] == [
        "locnv@gialai.gov.vn", "daodt@gialai.gov.vn", "locnv2@gialai.gov.vn", "tamlt@gialai.gov.vn"]
    assert result["vp@gialai.gov.vn"]["to"] == ["locnv@gialai.gov.vn", "daodt@gialai.gov.vn"]
    assert result["stc@gialai.gov.vn"]["to"] == ["tamlt@gialai.gov.vn"]
    assert result["hanhchinh@gialai.gov.vn"]["senders"] == ["vanphong@gialai.gov.vn", "daodt@gialai.gov.vn"]
    # the same day but within retention: the departed person still receives
    early = {a["address"]: a for a in mail_directory_aliases(directory, mail_apply_lifecycle(
        directory["accounts"], "2026-03-01"))}
    assert "hungpv@gialai.gov.vn" in early["stc@gialai.gov.vn"]["to"]


def test_a_list_left_without_receivers_is_omitted_and_external_targets_stay():
    person_list = [{"name": "Trần Quốc Nam", "agency": "SNV", "state": "revoked"}]
    agency_list = agencies(full=False)
    agency_list[1]["list"] = "snv"
    directory = build(agency_list=agency_list, person_list=person_list, lists=[],
                      aliases=[{"address": "chuyentiep", "to": ["namtq@gialai.gov.vn", "nam@example.org"]}])
    effective = mail_apply_lifecycle(directory["accounts"], "2026-11-28")
    result = {a["address"]: a for a in mail_directory_aliases(directory, effective)}
    assert [a["address"] for a in directory["aliases"]] == [
        "hanhchinh@gialai.gov.vn", "snv@gialai.gov.vn", "chuyentiep@gialai.gov.vn"]
    assert "snv@gialai.gov.vn" not in result  # its only member is revoked
    assert result["chuyentiep@gialai.gov.vn"] == {"address": "chuyentiep@gialai.gov.vn", "to": ["nam@example.org"],
                                                  "posting": "internal"}


@pytest.mark.control("SMTP-13")
def test_posting_policies_default_internal_and_resolve_their_senders():
    agency_list = agencies()
    agency_list[0]["list"] = {"address": "vp", "posting": "members"}
    lists = [{"address": "toantinh", "posting": "senders", "posting_senders": ["GL0002", "vanphong"]},
             {"address": "lanhdao", "roles": ["leader"]}]
    result = aliases(build(agency_list=agency_list, lists=lists,
                           aliases=[{"address": "hoidap", "to": ["vanphong@gialai.gov.vn"], "posting": "public"}]))
    assert result["toantinh@gialai.gov.vn"]["posting_senders"] == ["daodt@gialai.gov.vn", "vanphong@gialai.gov.vn"]
    assert result["vp@gialai.gov.vn"]["posting"] == "members"
    assert result["lanhdao@gialai.gov.vn"]["posting"] == "internal"
    assert result["hoidap@gialai.gov.vn"]["posting"] == "public"
    assert result["hanhchinh@gialai.gov.vn"]["posting"] == "public"  # a unit's own other address


@pytest.mark.parametrize("spec,expected", [
    ({"address": "toantinh", "posting": "open"}, "the list 'toantinh@gialai.gov.vn': posting 'open' is none of"),
    ({"address": "toantinh", "posting": "senders"}, "posting 'senders' needs posting_senders"),
    ({"address": "toantinh", "posting_senders": ["vanphong"]}, "posting_senders is only for posting 'senders'"),
    ({"address": "toantinh", "posting": "senders", "posting_senders": ["GL9999"]}, "the sender 'GL9999'"),
])
def test_a_wrong_posting_policy_names_the_list(spec, expected):
    assert expected in error(lists=[spec])


def test_aliases_filter_refuses_effective_accounts_of_another_directory():
    directory = build()
    with pytest.raises(AnsibleFilterError, match="locnv@gialai.gov.vn' is not among the effective accounts"):
        mail_directory_aliases(directory, [])


# --------------------------------------------------------------------------- names and collisions


@pytest.mark.control("ACC-07")
def test_d_with_stroke_and_combining_characters():
    person_list = [{"name": nfd("Đỗ Đức Đạt"), "agency": "SNV"}, {"name": "Đinh Thị Đào", "agency": "STC"}]
    accounts = by_address(build(person_list=person_list, lists=[]))
    assert "datdd@gialai.gov.vn" in accounts and "daodt@gialai.gov.vn" in accounts
    assert accounts["datdd@gialai.gov.vn"]["name"] == "Đỗ Đức Đạt"  # stored precomposed (NFC)


def test_one_word_name():
    accounts = by_address(build(person_list=[{"name": "H'Hen", "agency": "SNV"}], lists=[]))
    assert "hhen@gialai.gov.vn" in accounts


@pytest.mark.control("ACC-07")
def test_explicit_address_always_wins():
    person_list = [{"id": 2, "name": "Nguyễn Văn Lộc", "agency": "SNV"},
                   {"id": 1, "name": "Nguyễn Vũ Lộc", "agency": "STC", "address": "locnv"},
                   {"id": 3, "name": "Trần Thị Hoa", "agency": "VP", "address": "hoa.tran@gialai.gov.vn"}]
    directory = build(person_list=person_list, lists=[])
    accounts = by_address(directory)
    assert accounts["locnv@gialai.gov.vn"]["id"] == 1  # explicit wins over the generated one
    assert accounts["locnv2@gialai.gov.vn"]["id"] == 2
    assert accounts["hoa.tran@gialai.gov.vn"]["id"] == 3
    assert directory["collisions"] == [{"address": "locnv2@gialai.gov.vn", "base": "locnv@gialai.gov.vn",
                                        "name": "Nguyễn Văn Lộc", "agency": "SNV", "id": 2}]


def test_generated_address_never_takes_a_unit_or_list_address():
    person_list = [{"name": "Lê Văn Phòng", "agency": "SNV"}]
    directory = build(person_list=person_list, pattern="van{given}", lists=[])
    assert by_address(directory)["vanphong2@gialai.gov.vn"]["name"] == "Lê Văn Phòng"
    assert directory["collisions"][0]["base"] == "vanphong@gialai.gov.vn"


@pytest.mark.control("ACC-07")
def test_collision_report_does_not_depend_on_input_order():
    person_list = [{"name": "Nguyễn Văn Lộc", "agency": "SNV"},
                   {"name": nfd("Nguyễn Vũ Lộc"), "agency": "STC"},
                   {"name": "Nguyễn Văn Lộc", "agency": "STC"},
                   {"name": "Ngô Văn Lộc", "agency": "VP", "role": "leader"}]
    results = []
    for order in itertools.permutations(person_list):
        directory = build(person_list=list(order), lists=[])
        results.append((sorted((a["address"], a["name"], a["agency"]) for a in directory["accounts"]),
                        directory["collisions"]))
    assert all(r == results[0] for r in results)
    assert [(c["address"], c["name"], c["agency"]) for c in results[0][1]] == [
        ("locnv2@gialai.gov.vn", "Nguyễn Văn Lộc", "STC"),
        ("locnv3@gialai.gov.vn", "Nguyễn Vũ Lộc", "STC"),
        ("locnv4@gialai.gov.vn", "Ngô Văn Lộc", "VP")]
    # Without ids: by name (Unicode code points of the NFC form: "Nguy" < "Ngô" as u < ô),
    # then by the rest of the record (agency SNV < STC).
    assert ("locnv@gialai.gov.vn", "Nguyễn Văn Lộc", "SNV") in results[0][0]


def test_collision_report_sorts_suffixes_as_numbers():
    person_list = [{"id": n, "name": "Nguyễn Văn Lộc", "agency": "SNV"} for n in range(1, 12)]
    collisions = build(person_list=person_list, lists=[])["collisions"]
    assert [c["address"].split("@")[0] for c in collisions] == [f"locnv{n}" for n in range(2, 12)]
    assert [c["id"] for c in collisions] == list(range(2, 12))


@pytest.mark.control("ACC-07")
def test_leaders_get_the_leader_retention_through_the_role():
    person_list = [{"name": "Nguyễn Văn Lộc", "agency": "SNV", "role": "leader", "state": "departed",
                    "departed_on": "2026-01-15"},
                   {"name": "Trần Thị Hoa", "agency": "SNV", "state": "departed", "departed_on": "2026-01-15"}]
    directory = build(person_list=person_list, lists=[])
    effective = {a["address"]: a for a in mail_apply_lifecycle(directory["accounts"], "2026-11-28")}
    assert (effective["locnv@gialai.gov.vn"]["effective_state"], effective["locnv@gialai.gov.vn"]["due"]) == (
        "retained", "2027-01-15")
    assert (effective["hoatt@gialai.gov.vn"]["effective_state"], effective["hoatt@gialai.gov.vn"]["due"]) == (
        "expired", "2026-07-15")


def test_custom_pattern():
    person_list = [{"name": "Nguyễn Văn Lộc", "agency": "SNV"}]
    assert "loc.nguyen@gialai.gov.vn" in by_address(build(person_list=person_list, lists=[],
                                                           pattern="{given}.{family}"))


# --------------------------------------------------------------------------- errors


@pytest.mark.control("ACC-03", "ACC-07")
def test_unknown_agency_names_the_person_and_the_code():
    message = error(person_list=[{"name": "Võ Thị Lan", "agency": "SYT"}], lists=[])
    assert "person 'Võ Thị Lan'" in message and "unknown agency 'SYT'" in message
    assert "VP, VP-TH, VP-TH-LT, SNV, STC" in message


@pytest.mark.control("ACC-03", "ACC-07")
def test_unknown_quota_class_names_the_account():
    message = error(person_list=[{"name": "Võ Thị Lan", "agency": "SNV", "quota_class": "vip"}], lists=[])
    assert "person 'Võ Thị Lan' of agency 'SNV' has unknown quota class 'vip'" in message
    agency_list = agencies()
    agency_list[1]["mailbox"] = {"address": "sonoivu", "quota_class": "huge"}
    message = error(agency_list=agency_list)
    assert "sonoivu@gialai.gov.vn" in message and "unknown quota class 'huge'" in message


def test_malformed_quota_and_quota_class_size():
    assert "has quota '2 GB'" in error(person_list=[{"name": "Võ Thị Lan", "agency": "SNV", "quota": "2 GB"}],
                                       lists=[])
    assert "quota class 'big' has size '10 GB'" in error(quota_classes={"big": "10 GB"})
    assert "default_quota_class 'vip'" in error(default_quota_class="vip")


@pytest.mark.control("ACC-03", "ACC-07")
@pytest.mark.parametrize("domain", ["gialai..gov.vn", "gialai", "-gialai.gov.vn"])
def test_invalid_agency_domain(domain):
    agency_list = agencies()
    agency_list[1]["domain"] = domain
    message = error(agency_list=agency_list)
    assert "agency 'SNV' (Sở Nội vụ) has an invalid domain" in message and domain in message


def test_agency_domain_that_is_not_served():
    agency_list = agencies()
    agency_list[2]["domain"] = "stc.gialai.gov.vn"
    message = error(agency_list=agency_list)
    assert "agency 'STC'" in message and "'stc.gialai.gov.vn', which is not served" in message


def test_invalid_served_domain():
    with pytest.raises(AnsibleFilterError, match="served domain 'gialai..gov.vn'"):
        mail_directory(agencies(), people(), ["gialai..gov.vn"])


def test_sub_units_inherit_the_domain():
    agency_list = agencies()
    agency_list[0]["domain"] = "ubnd.gialai.gov.vn"
    directory = mail_directory(agency_list, people(), ["gialai.gov.vn", "ubnd.gialai.gov.vn"],
                               quota_classes=CLASSES)
    accounts = by_address(directory)
    assert "luutru@ubnd.gialai.gov.vn" in accounts  # two levels down
    assert "daodt@ubnd.gialai.gov.vn" in accounts
    assert "locnv2@gialai.gov.vn" not in accounts and "locnv@gialai.gov.vn" in accounts  # SNV's own domain


@pytest.mark.control("ACC-07")
def test_duplicate_agency_code_names_both():
    agency_list = agencies()
    agency_list[2]["units"] = [{"code": "vp-th", "name": "Phòng Tổng hợp (Sở)", "mailbox": "tonghop-stc"}]
    message = error(agency_list=agency_list)
    assert "agency 'VP-TH' (Phòng Tổng hợp)" in message and "agency 'vp-th' (Phòng Tổng hợp (Sở))" in message


@pytest.mark.control("ACC-07")
@pytest.mark.parametrize("case, both", [
    ("person vs unit", ["the unit mailbox of agency 'SNV'", "person 'Võ Thị Lan'"]),
    ("person vs list", ["the list 'toantinh@gialai.gov.vn'", "person 'Võ Thị Lan'"]),
    ("person vs person", ["person 'Nguyễn Văn Lộc'", "person 'Võ Thị Lan'"]),
    ("unit alias vs agency list", ["the alias 'hanhchinh@gialai.gov.vn'", "the list of agency 'STC'"]),
    ("list vs extra alias", ["the list 'lanhdao@gialai.gov.vn'", "the alias 'lanhdao@gialai.gov.vn'"]),
])
def test_duplicate_addresses_name_both_owners(case, both):
    agency_list, person_list, extra = agencies(), people(), []
    if case == "person vs unit":
        person_list.append({"name": "Võ Thị Lan", "agency": "VP", "address": "sonoivu"})
    elif case == "person vs list":
        person_list.append({"name": "Võ Thị Lan", "agency": "VP", "address": "toantinh@gialai.gov.vn"})
    elif case == "person vs person":
        person_list[0]["address"] = "lan"
        person_list.append({"name": "Võ Thị Lan", "agency": "VP", "address": "LAN"})
    elif case == "unit alias vs agency list":
        agency_list[2]["list"] = "hanhchinh"
    else:
        extra = [{"address": "lanhdao", "to": ["a@example.org"]}]
    message = error(agency_list=agency_list, person_list=person_list, aliases=extra)
    assert all(part in message for part in both), message


@pytest.mark.control("ACC-07")
def test_duplicate_person_names_both():
    message = error(person_list=[{"name": "Nguyễn Văn Lộc", "agency": "SNV"},
                                 {"name": nfd("Nguyễn  Văn Lộc"), "agency": "SNV"}], lists=[])
    assert "#1" in message and "#2" in message and "same record" in message
    message = error(person_list=[{"id": "A1", "name": "Nguyễn Văn Lộc", "agency": "SNV"},
                                 {"id": "A1", "name": "Trần Thị Hoa", "agency": "STC"}], lists=[])
    assert "person 'Nguyễn Văn Lộc' (id A1)" in message and "person 'Trần Thị Hoa' (id A1)" in message


def test_same_name_in_the_same_agency_with_ids_is_two_people():
    person_list = [{"id": "B2", "name": "Nguyễn Văn Lộc", "agency": "SNV"},
                   {"id": "B1", "name": "Nguyễn Văn Lộc", "agency": "SNV"}]
    directory = build(person_list=person_list, lists=[])
    assert by_address(directory)["locnv@gialai.gov.vn"]["id"] == "B1"


@pytest.mark.parametrize("person, words", [
    ({"name": "", "agency": "SNV"}, ["person #1 has no name"]),
    ({"name": "Võ Thị Lan"}, ["person 'Võ Thị Lan' has no agency"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "role": "boss"}, ["unknown role 'boss'"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "state": "gone"}, ["unknown state 'gone'"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "state": "departed"}, ["departed but has no departed_on"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "departed_on": "1/10/2026"}, ["malformed departed_on"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "quota_clas": "staff"}, ["unknown field(s) quota_clas"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "address": "Võ Lan"}, ["invalid address"]),
    ({"name": "Võ Thị Lan", "agency": "SNV", "address": "lan@example.org"}, ["outside the served domains"]),
    ({"name": "?!", "agency": "SNV"}, ["person '?!'", "no letters or digits"]),
])
def test_bad_person_is_named(person, words):
    message = error(person_list=[person], lists=[])
    assert all(w in message for w in words), message
    if person.get("name"):
        assert person["name"] in message


def test_bad_lists():
    assert "selects unknown agency 'SYT'" in error(lists=[{"address": "syt", "agencies": ["SYT"]}])
    assert "selects unknown role 'boss'" in error(lists=[{"address": "x", "roles": ["boss"]}])
    assert "the list 'giamdoc@gialai.gov.vn' selects nobody" in error(
        lists=[{"address": "giamdoc", "roles": ["director"]}])
    assert "the list 'x@gialai.gov.vn' has the sender 'nobody'" in error(
        lists=[{"address": "x", "senders": ["nobody"]}])


def test_agency_without_a_unit_mailbox_and_empty_agency_list():
    agency_list = agencies()
    del agency_list[1]["mailbox"]
    assert "agency 'SNV' (Sở Nội vụ) has no unit mailbox" in error(agency_list=agency_list)
    agency_list = agencies(full=False)
    agency_list[1]["list"] = "snv"
    assert "nobody belongs to agency 'SNV'" in error(
        agency_list=agency_list, person_list=[{"name": "Võ Thị Lan", "agency": "STC"}], lists=[])


def test_no_password_in_the_directory():
    with pytest.raises(AnsibleFilterError, match="unknown field.*password"):
        build(person_list=[{"name": "Võ Thị Lan", "agency": "SNV", "password": "Bi#Mat2026xyz"}], lists=[])
    try:
        build(person_list=[{"name": "Võ Thị Lan", "agency": "SNV", "password": "Bi#Mat2026xyz"}], lists=[])
    except AnsibleFilterError as exc:
        assert "Bi#Mat2026xyz" not in exc.message


def test_registered_filters():
    assert set(filters_from("directory")) == {"mail_directory", "mail_directory_aliases", "mail_agency_mailboxes"}


# --------------------------------------------------------------------------- agencies for restores


@pytest.mark.control("ACC-07")
def test_agency_parents_in_agency_order_with_codes_as_written():
    assert build()["agency_parents"] == {"VP": None, "VP-TH": "VP", "VP-TH-LT": "VP-TH", "SNV": None, "STC": None}
    assert list(build()["agency_parents"]) == ["VP", "VP-TH", "VP-TH-LT", "SNV", "STC"]
    agency_list = agencies(full=False)
    agency_list[0]["code"] = "Vp"
    agency_list[0]["units"][0]["code"] = "vp-th"
    person_list = [{"name": "Đặng Thị Đào", "agency": "VP-TH-LT"}]
    assert build(agency_list=agency_list, person_list=person_list, lists=[])["agency_parents"] == {
        "Vp": None, "vp-th": "Vp", "VP-TH-LT": "vp-th", "SNV": None, "STC": None}


def effective(directory, date="2026-11-28"):
    return mail_apply_lifecycle(directory["accounts"], date, 6, 12)


@pytest.mark.control("BAK-08")
def test_an_agency_has_the_mailboxes_of_every_sub_unit_and_a_leaf_only_its_own():
    directory = build()
    result = mail_agency_mailboxes(effective(directory), directory["agency_parents"])
    assert list(result) == ["VP", "VP-TH", "VP-TH-LT", "SNV", "STC"]
    leaf = ["hungtv@gialai.gov.vn", "luutru@gialai.gov.vn"]  # hungtv@ is revoked: its mailbox is still restored
    middle = sorted(leaf + ["tonghop@gialai.gov.vn", "daodt@gialai.gov.vn"])
    assert result["VP-TH-LT"] == leaf
    assert result["VP-TH"] == middle
    assert result["VP"] == sorted(middle + ["vanphong@gialai.gov.vn", "locnv@gialai.gov.vn"])
    assert result["SNV"] == ["locnv2@gialai.gov.vn", "sonoivu@gialai.gov.vn"]


@pytest.mark.control("BAK-08")
def test_a_mailbox_archived_then_removed_is_left_out():
    directory = build()
    # hungpv@ (STC) departed 2026-01-15: retained until 2026-07-15, then archive_then_remove
    assert mail_agency_mailboxes(effective(directory, "2026-03-01"), directory["agency_parents"])["STC"] == [
        "hungpv@gialai.gov.vn", "sotaichinh@gialai.gov.vn", "tamlt@gialai.gov.vn"]
    assert mail_agency_mailboxes(effective(directory, "2026-11-28"), directory["agency_parents"])["STC"] == [
        "sotaichinh@gialai.gov.vn", "tamlt@gialai.gov.vn"]


def test_agency_codes_match_case_insensitively_and_accounts_without_agency_are_ignored():
    parents = {"vp": None, "Vp-Th": "VP", "VP-TH-LT": "vp-th"}
    accounts = [{"address": "LuuTru@GiaLai.gov.vn", "agency": "vp-th-lt", "action": "keep"},
                {"address": "vanphong@gialai.gov.vn", "agency": "VP", "action": "keep"},
                {"address": "khach@gialai.gov.vn", "action": "keep"}]
    assert mail_agency_mailboxes(accounts, parents) == {
        "vp": ["luutru@gialai.gov.vn", "vanphong@gialai.gov.vn"],
        "Vp-Th": ["luutru@gialai.gov.vn"], "VP-TH-LT": ["luutru@gialai.gov.vn"]}
    assert mail_agency_mailboxes([], {"VP": None}) == {"VP": []}


@pytest.mark.parametrize("accounts, parents, words", [
    ([], ["VP"], ["mapping", "list"]),
    ([], {"VP": None, "VP-LT": "VP-XX"}, ["agency 'VP-LT' has unknown parent 'VP-XX'", "known: VP, VP-LT"]),
    ([], {"A": "C", "B": "A", "C": "B", "D": None}, ["cycle", "A -> C -> B -> A"]),
    ([], {"A": "a"}, ["cycle", "A -> A"]),
    ([{"address": "hoatt@gialai.gov.vn", "agency": "SYT"}], {"VP": None, "VP-LT": "VP"},
     ["account 'hoatt@gialai.gov.vn' has unknown agency 'SYT'", "known: VP, VP-LT"]),
    ([], {"VP": None, "vp": None}, ["'VP' and 'vp'"]),
])
def test_bad_agency_tree_or_account_is_named(accounts, parents, words):
    with pytest.raises(AnsibleFilterError) as exc:
        mail_agency_mailboxes(accounts, parents)
    for word in words:
        assert word in exc.value.message


# --------------------------------------------------------------------------- inventories


def _render(path):
    data = yaml.safe_load(path.read_text())
    return data, mail_directory(
        data["mail_agencies"], data["mail_people"], data.get("mail_domains", DOMAINS),
        pattern=data.get("mail_address_pattern", "{given}{initials}"),
        quota_classes=data.get("mail_quota_classes"),
        default_quota_class=data.get("mail_default_quota_class"),
        lists=data.get("mail_lists"), aliases=data.get("mail_extra_aliases"))


# The lab's accounts and aliases as the Molecule tests expect them (the literal lists the
# lab inventory held before it described itself as a directory, as production does).
LAB_ACCOUNTS = [
    {"address": "postmaster@gialai.gov.vn", "name": "Quản trị hệ thống thư", "agency": "VP"},
    {"address": "canhbao@gialai.gov.vn", "name": "Cảnh báo hệ thống thư", "agency": "VP"},  # mail_alert_account
    {"address": "vanphong@gialai.gov.vn", "name": "Văn phòng UBND tỉnh", "agency": "VP",
     "senders": ["hoatt@gialai.gov.vn"]},
    {"address": "locnv@gialai.gov.vn", "name": "Nguyễn Văn Lộc", "agency": "VP"},
    {"address": "hoatt@gialai.gov.vn", "name": "Trần Thị Hoa", "agency": "VP"},
    {"address": "luutru@gialai.gov.vn", "name": "Lưu trữ", "agency": "VP-LT", "quota": "1M"},
    {"address": "tamlt@gialai.gov.vn", "name": "Lê Thị Tâm", "agency": "VP", "state": "suspended"},
    {"address": "hungpv@gialai.gov.vn", "name": "Phạm Văn Hùng", "agency": "VP", "state": "departed",
     "departed_on": "2026-10-01"},
    {"address": "namtq@gialai.gov.vn", "name": "Trần Quốc Nam", "agency": "VP", "state": "revoked"},
]
_TEAM = ["locnv@gialai.gov.vn", "hoatt@gialai.gov.vn", "tamlt@gialai.gov.vn", "hungpv@gialai.gov.vn"]
LAB_ALIASES = [
    {"address": "lanhdao@gialai.gov.vn", "to": ["locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"], "posting": "internal"},
    {"address": "toantinh@gialai.gov.vn", "to": _TEAM, "posting": "senders",
     "posting_senders": ["vanphong@gialai.gov.vn"]},
    {"address": "hanhchinh@gialai.gov.vn", "to": ["vanphong@gialai.gov.vn"],
     "senders": ["vanphong@gialai.gov.vn", "hoatt@gialai.gov.vn"], "posting": "public"},
    {"address": "vp@gialai.gov.vn", "to": _TEAM, "posting": "members"},
]


@pytest.mark.control("ACC-07")
def test_lab_directory_gives_exactly_the_lab_accounts_and_aliases():
    """The lab's directory (inventories/lab/group_vars/all/mail.yml), rendered as the
    mail_* layer renders it (tests/helpers/labdata.py), gives exactly the accounts,
    quotas, passwords, aliases and agency tree the Molecule tests expect."""
    from tests.helpers.labdata import inventory_mail, render

    data = inventory_mail()
    assert "mail_accounts" not in data and "mail_aliases" not in data and "mail_agency_parents" not in data, \
        "the lab lists no accounts: they come from its directory, as production's do"
    lab = render(data)
    derived = lab["accounts"]

    # The same mailboxes with the same fields the roles read (every consumer sorts by address),
    # the same agency (restores by agency); the directory adds only role and shared.
    def project(account):
        return {k: v for k, v in account.items() if k not in ("role", "shared")}

    assert sorted(map(project, derived), key=lambda a: a["address"]) == sorted(
        LAB_ACCOUNTS, key=lambda a: a["address"])
    assert {a["address"]: a.get("role") for a in derived if a.get("role") != "staff"} == {
        "postmaster@gialai.gov.vn": None, "vanphong@gialai.gov.vn": None, "luutru@gialai.gov.vn": None,
        "canhbao@gialai.gov.vn": None, "locnv@gialai.gov.vn": "leader", "hoatt@gialai.gov.vn": "leader"}
    assert lab["collisions"] == []

    # The same lifecycle and the same passwords (from the vault by address) on the lab's date.
    vault = data["vault_mail_passwords"]
    old = mail_apply_lifecycle(LAB_ACCOUNTS, data["mail_lifecycle_date"], None, None, passwords=vault)
    keys = ("address", "password", "quota", "effective_state", "login", "receive", "send", "action", "due")
    assert sorted(({k: a.get(k) for k in keys} for a in lab["effective"]), key=lambda a: a["address"]) == sorted(
        ({k: a.get(k) for k in keys} for a in old), key=lambda a: a["address"])
    assert {a["address"]: a["effective_state"] for a in lab["effective"]}["hungpv@gialai.gov.vn"] == "retained"

    # The same aliases, in the same order, with the same targets and senders.
    assert lab["aliases"] == LAB_ALIASES

    # The same agency tree, hence the same mailboxes per agency for restores.
    assert lab["agency_parents"] == {"VP": None, "VP-LT": "VP"}
    assert mail_agency_mailboxes(lab["effective"], lab["agency_parents"]) == {
        "VP": ["canhbao@gialai.gov.vn", "hoatt@gialai.gov.vn", "hungpv@gialai.gov.vn", "locnv@gialai.gov.vn", "luutru@gialai.gov.vn",
               "namtq@gialai.gov.vn", "postmaster@gialai.gov.vn", "tamlt@gialai.gov.vn", "vanphong@gialai.gov.vn"],
        "VP-LT": ["luutru@gialai.gov.vn"]}


@pytest.mark.control("ACC-07")
def test_production_directory_renders():
    data, directory = _render(ROOT / "inventories" / "production" / "group_vars" / "all" / "mail.yml")
    accounts = by_address(directory)
    assert "mail_accounts" not in data, "derived from the directory by playbooks/group_vars/all/mail.yml"
    assert "postmaster@gialai.gov.vn" in accounts and "vanphong@gialai.gov.vn" in accounts
    vault = yaml.safe_load((ROOT / "inventories" / "production" / "group_vars" / "all" / "vault.yml").read_text())
    assert sorted(vault["vault_mail_passwords"]) == sorted(accounts), "a password placeholder per mailbox"
    leaders = [a["address"] for a in directory["accounts"] if a.get("role") == "leader"]
    lists = aliases(directory)
    assert lists["lanhdao@gialai.gov.vn"]["to"] == leaders
    everyone = [a["address"] for a in directory["accounts"] if "role" in a]
    assert lists["toantinh@gialai.gov.vn"]["to"] == everyone
    assert all(a.get("quota") for a in directory["accounts"])
