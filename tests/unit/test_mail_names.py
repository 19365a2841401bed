import itertools
import unicodedata

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.names import (
    LOCAL_PART_RE,
    mail_assign_addresses,
    mail_valid_address,
    mail_valid_domain,
    vn_ascii,
    vn_local_part,
)
from filter_table import filters_from

DOMAIN = "gialai.gov.vn"


def nfd(text):
    return unicodedata.normalize("NFD", text)


# --------------------------------------------------------------------------- vn_ascii


def test_vn_ascii_removes_tones_and_keeps_case():
    assert vn_ascii("Nguyễn Văn Lộc") == "Nguyen Van Loc"


def test_vn_ascii_d_with_stroke():
    assert vn_ascii("Đặng Đình Đức, đường") == "Dang Dinh Duc, duong"
    # U+00D0 (Icelandic eth) is often typed for Đ
    assert vn_ascii("\u00d0ào") == "Dao"


def test_vn_ascii_every_vietnamese_vowel():
    vowels = (
        "àáảãạ ăằắẳẵặ âầấẩẫậ èéẻẽẹ êềếểễệ ìíỉĩị òóỏõọ ôồốổỗộ ơờớởỡợ ùúủũụ ưừứửữự ỳýỷỹỵ"
    )
    expected = (
        "aaaaa aaaaaa aaaaaa eeeee eeeeee iiiii ooooo oooooo oooooo uuuuu uuuuuu yyyyy"
    )
    assert vn_ascii(vowels) == expected
    assert vn_ascii(vowels.upper()) == expected.upper()


@pytest.mark.parametrize(
    "text", ["Nguyễn Văn Lộc", "Trần Thị Đào", "Phạm Thị Ngọc Hường", "Huỳnh Ưng"]
)
def test_vn_ascii_nfc_and_nfd_agree(text):
    assert nfd(text) != text  # the test really feeds combining characters
    assert vn_ascii(nfd(text)) == vn_ascii(text)
    assert vn_ascii(text).isascii()


def test_vn_ascii_rejects_non_string():
    with pytest.raises(AnsibleFilterError):
        vn_ascii(None)


# --------------------------------------------------------------------------- vn_local_part


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ("{given}{initials}", "locnv"),
        ("{initials}{given}", "nvloc"),
        ("{given}.{family}", "loc.nguyen"),
        ("{family}_{given}", "nguyen_loc"),
        ("{given}-{middle}", "loc-van"),
        ("{all_initials}", "nvl"),
        ("{full}", "nguyenvanloc"),
        ("gl.{given}{initials}", "gl.locnv"),
    ],
)
def test_vn_local_part_patterns(pattern, expected):
    assert vn_local_part("Nguyễn Văn Lộc", pattern) == expected


def test_vn_local_part_default_pattern():
    assert vn_local_part("Nguyễn Văn Lộc") == "locnv"
    assert vn_local_part("Đỗ Đức Đạt") == "datdd"


def test_vn_local_part_nfd_input():
    assert vn_local_part(nfd("Trần Thị Đào")) == "daott"


def test_vn_local_part_extra_whitespace():
    assert vn_local_part("  Nguyễn   Văn \t Lộc \n") == "locnv"


def test_vn_local_part_several_middle_names():
    name = "Tôn Nữ Thị Ngọc Hà"
    assert vn_local_part(name) == "hatntn"
    assert vn_local_part(name, "{middle}") == "nuthingoc"
    assert vn_local_part(name, "{all_initials}") == "tntnh"


def test_vn_local_part_two_words():
    assert vn_local_part("Trần Hưng") == "hungt"
    # the empty {middle} leaves a doubled separator that is collapsed
    assert vn_local_part("Trần Hưng", "{given}.{middle}.{family}") == "hung.tran"


@pytest.mark.parametrize(
    "pattern",
    ["{given}{initials}", "{initials}{given}", "{given}.{family}", "{family}-{given}"],
)
def test_vn_local_part_one_word_name(pattern):
    assert vn_local_part("Lộc", pattern) == "loc"


def test_vn_local_part_drops_punctuation_inside_names():
    assert vn_local_part("Nguyễn Thị Mai-Anh") == "maianhnt"
    assert vn_local_part("Lê V. Tám") == "tamlv"


@pytest.mark.parametrize(
    "name", ["Nguyễn Văn Lộc", "Đinh Thị Ánh Tuyết", "Lộc", "Y Moan Niê", "Ksor H'Bia"]
)
@pytest.mark.parametrize(
    "pattern", ["{given}{initials}", "{given}.{family}", "{family}_{middle}-{given}"]
)
def test_vn_local_part_result_shape(name, pattern):
    assert LOCAL_PART_RE.match(vn_local_part(name, pattern))


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "-- ..", "山田"])
def test_vn_local_part_unusable_names(name):
    with pytest.raises(AnsibleFilterError, match="cannot derive"):
        vn_local_part(name)


@pytest.mark.parametrize(
    "pattern",
    ["{given}{surname}", "{given:>3}", "{given}@x", "{given} {family}", "abc", ""],
)
def test_vn_local_part_bad_patterns(pattern):
    with pytest.raises(AnsibleFilterError, match="pattern"):
        vn_local_part("Nguyễn Văn Lộc", pattern)


def test_vn_local_part_too_long():
    with pytest.raises(AnsibleFilterError, match="longer than 64"):
        vn_local_part("Nguyễn " * 12 + "Lộc", "{full}")


# --------------------------------------------------------------------------- domain / address checks


@pytest.mark.parametrize(
    "name",
    [
        "gialai.gov.vn",
        "GiaLai.Gov.VN",
        "mail-1.gialai.gov.vn",
        "a.vn",
        "x" * 63 + ".vn",
    ],
)
def test_valid_domains(name):
    assert mail_valid_domain(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "localhost", "-gialai.gov.vn", "gialai-.gov.vn", "gialai..vn", ".gialai.vn", "gialai.vn.",
        "gia_lai.vn", "x" * 64 + ".vn", "1.2.3.4", "", None, 42, "gialai.gov.vn ", "giạlai.vn",
        ("a" * 60 + ".") * 5 + "vn",
    ],
)  # fmt: skip
def test_invalid_domains(name):
    assert mail_valid_domain(name) is False


@pytest.mark.parametrize(
    "addr", ["locnv@gialai.gov.vn", "Loc.NV+tag@GiaLai.gov.vn", "a_b-c@x.vn", "1@x.vn"]
)
def test_valid_addresses(addr):
    assert mail_valid_address(addr) is True


@pytest.mark.parametrize(
    "addr",
    [
        ".loc@gialai.gov.vn", "loc.@gialai.gov.vn", "l..c@gialai.gov.vn", "lộc@gialai.gov.vn",
        "a@b@gialai.gov.vn", "a@localhost", "@gialai.gov.vn", "loc@", "a" * 65 + "@x.vn",
        "loc nv@gialai.gov.vn", None, "locnv",
    ],
)  # fmt: skip
def test_invalid_addresses(addr):
    assert mail_valid_address(addr) is False


# --------------------------------------------------------------------------- mail_assign_addresses


def by_name(result):
    return {p["name"]: p for p in result}


def test_assign_simple_and_copies():
    people = [
        {"name": "Nguyễn Văn Lộc"},
        {"name": "Trần Thị Đào", "title": "chuyên viên"},
    ]
    result = mail_assign_addresses(people, DOMAIN)
    assert [p["address"] for p in result] == [
        "locnv@gialai.gov.vn",
        "daott@gialai.gov.vn",
    ]
    assert result[1]["title"] == "chuyên viên"
    assert "address" not in people[0]  # input untouched
    assert all("address_collision" not in p for p in result)


def test_assign_collision_by_id_is_order_independent():
    people = [
        {"name": "Nguyễn Văn Lộc", "id": "GL0012"},
        {"name": "Nguyễn Vũ Lộc", "id": "GL0007"},
        {"name": "Ngô Viết Lộc", "id": "GL0100"},
    ]
    expected = {
        "GL0007": "locnv@gialai.gov.vn",
        "GL0012": "locnv2@gialai.gov.vn",
        "GL0100": "locnv3@gialai.gov.vn",
    }
    for order in itertools.permutations(people):
        result = mail_assign_addresses(list(order), DOMAIN)
        assert {p["id"]: p["address"] for p in result} == expected
        for p in result:
            if p["id"] == "GL0007":
                assert "address_collision" not in p
            else:
                assert p["address_collision"] is True
                assert p["address_base"] == "locnv@gialai.gov.vn"


def test_assign_collision_without_id_sorted_by_name():
    people = [{"name": "Nguyễn Vũ Lộc"}, {"name": "Nguyễn Văn Lộc"}]
    for order in (people, people[::-1]):
        result = by_name(mail_assign_addresses(order, DOMAIN))
        assert result["Nguyễn Văn Lộc"]["address"] == "locnv@gialai.gov.vn"
        assert result["Nguyễn Vũ Lộc"]["address"] == "locnv2@gialai.gov.vn"


def test_assign_collision_nfd_name_same_candidate():
    result = mail_assign_addresses(
        [{"name": nfd("Nguyễn Văn Lộc"), "id": 2}, {"name": "Nguyễn Văn Lộc", "id": 1}],
        DOMAIN,
    )
    assert {p["id"]: p["address"] for p in result} == {
        1: "locnv@gialai.gov.vn",
        2: "locnv2@gialai.gov.vn",
    }


def test_assign_numeric_ids_sort_numerically():
    people = [{"name": "Nguyễn Văn Lộc", "id": 10}, {"name": "Nguyễn Vũ Lộc", "id": 9}]
    result = mail_assign_addresses(people, DOMAIN)
    assert {p["id"]: p["address"] for p in result} == {
        9: "locnv@gialai.gov.vn",
        10: "locnv2@gialai.gov.vn",
    }


def test_assign_person_with_id_before_person_without():
    people = [{"name": "Nguyễn Ánh Lộc"}, {"name": "Nguyễn Văn Lộc", "id": "Z9"}]
    for order in (people, people[::-1]):
        result = by_name(mail_assign_addresses(order, DOMAIN))
        assert result["Nguyễn Văn Lộc"]["address"] == "locnv@gialai.gov.vn"
        assert (
            result["Nguyễn Ánh Lộc"]["address"] == "locna@gialai.gov.vn"
        )  # no collision at all
    twins = [{"name": "Nguyễn Vũ Lộc"}, {"name": "Nguyễn Văn Lộc", "id": "Z9"}]
    for order in (twins, twins[::-1]):
        result = by_name(mail_assign_addresses(order, DOMAIN))
        assert result["Nguyễn Văn Lộc"]["address"] == "locnv@gialai.gov.vn"
        assert result["Nguyễn Vũ Lộc"]["address"] == "locnv2@gialai.gov.vn"


def test_assign_explicit_address_wins():
    people = [
        {"name": "Nguyễn Văn Lộc", "id": 1},
        {"name": "Nguyễn Vũ Lộc", "id": 2},
        {
            "name": "Lê Thị Hoa",
            "address": "LocNV",
        },  # explicit local part, takes the bare address
    ]
    for order in itertools.permutations(people):
        result = by_name(mail_assign_addresses(list(order), DOMAIN))
        assert result["Lê Thị Hoa"]["address"] == "locnv@gialai.gov.vn"
        assert "address_collision" not in result["Lê Thị Hoa"]
        assert result["Nguyễn Văn Lộc"]["address"] == "locnv2@gialai.gov.vn"
        assert result["Nguyễn Vũ Lộc"]["address"] == "locnv3@gialai.gov.vn"
        assert result["Nguyễn Văn Lộc"]["address_collision"] is True
        assert result["Nguyễn Văn Lộc"]["address_base"] == "locnv@gialai.gov.vn"


def test_assign_explicit_full_address_other_domain():
    result = mail_assign_addresses(
        [{"name": "Nguyễn Văn Lộc", "address": "Loc.Nguyen@SoTNMT.GiaLai.gov.vn"}],
        DOMAIN,
    )
    assert result[0]["address"] == "loc.nguyen@sotnmt.gialai.gov.vn"


def test_assign_suffix_skips_taken_addresses():
    people = [
        {"name": "Nguyễn Văn Lộc", "id": 1},
        {"name": "Nguyễn Vũ Lộc", "id": 2},
        {"name": "Lê Thị Hoa", "address": "locnv2@gialai.gov.vn"},
        {"name": "Locnv3"},  # one-word name whose bare candidate is locnv3
    ]
    for order in itertools.permutations(people):
        result = by_name(mail_assign_addresses(list(order), DOMAIN))
        assert result["Nguyễn Văn Lộc"]["address"] == "locnv@gialai.gov.vn"
        assert result["Nguyễn Vũ Lộc"]["address"] == "locnv4@gialai.gov.vn"
        assert result["Locnv3"]["address"] == "locnv3@gialai.gov.vn"
        assert "address_collision" not in result["Locnv3"]


def test_assign_same_name_in_different_domains_does_not_collide():
    people = [
        {"name": "Nguyễn Văn Lộc"},
        {"name": "Nguyễn Văn Lộc", "domain": "sotnmt.gialai.gov.vn"},
    ]
    result = mail_assign_addresses(people, DOMAIN)
    assert [p["address"] for p in result] == [
        "locnv@gialai.gov.vn",
        "locnv@sotnmt.gialai.gov.vn",
    ]


def test_assign_is_idempotent_on_its_own_output():
    people = [{"name": "Nguyễn Văn Lộc", "id": 1}, {"name": "Nguyễn Vũ Lộc", "id": 2}]
    first = mail_assign_addresses(people, DOMAIN)
    second = mail_assign_addresses(first, DOMAIN)
    assert [p["address"] for p in second] == [p["address"] for p in first]


def test_assign_custom_pattern():
    result = mail_assign_addresses(
        [{"name": "Nguyễn Văn Lộc"}], DOMAIN, "{given}.{family}"
    )
    assert result[0]["address"] == "loc.nguyen@gialai.gov.vn"


def test_assign_duplicate_explicit_addresses_name_both_people():
    people = [
        {"name": "Lê Thị Hoa", "address": "hoalt"},
        {"name": "Lê Tấn Hòa", "address": "HoaLT@gialai.gov.vn"},
    ]
    with pytest.raises(AnsibleFilterError) as exc:
        mail_assign_addresses(people, DOMAIN)
    message = str(exc.value)
    assert (
        "Lê Thị Hoa" in message
        and "Lê Tấn Hòa" in message
        and "hoalt@gialai.gov.vn" in message
    )


def test_assign_duplicate_ids():
    with pytest.raises(AnsibleFilterError, match="same id 'GL1'"):
        mail_assign_addresses(
            [{"name": "A Bình", "id": "GL1"}, {"name": "C Dũng", "id": "GL1"}], DOMAIN
        )


@pytest.mark.parametrize(
    "domain", ["gialai", "gia_lai.gov.vn", "-gialai.vn", "gialai..vn"]
)
def test_assign_invalid_domain_names_the_person(domain):
    with pytest.raises(AnsibleFilterError) as exc:
        mail_assign_addresses([{"name": "Nguyễn Văn Lộc"}], domain)
    assert "Nguyễn Văn Lộc" in str(exc.value) and "invalid domain" in str(exc.value)


def test_assign_invalid_per_person_domain():
    with pytest.raises(AnsibleFilterError, match="Trần Thị Đào"):
        mail_assign_addresses(
            [{"name": "Nguyễn Văn Lộc"}, {"name": "Trần Thị Đào", "domain": "bad"}],
            DOMAIN,
        )


def test_assign_invalid_explicit_address():
    with pytest.raises(AnsibleFilterError, match="'Trần Thị Đào'.*invalid address"):
        mail_assign_addresses(
            [{"name": "Trần Thị Đào", "address": "đào@gialai.gov.vn"}], DOMAIN
        )


def test_assign_missing_domain():
    with pytest.raises(AnsibleFilterError, match="'Nguyễn Văn Lộc' has no domain"):
        mail_assign_addresses([{"name": "Nguyễn Văn Lộc"}])


@pytest.mark.parametrize("person", [{"id": 7}, {"name": "  "}, {"name": None}])
def test_assign_missing_name(person):
    with pytest.raises(AnsibleFilterError, match="has no name"):
        mail_assign_addresses([{"name": "Nguyễn Văn Lộc"}, person], DOMAIN)


def test_assign_rejects_non_list_and_non_mapping():
    with pytest.raises(AnsibleFilterError):
        mail_assign_addresses({"name": "Nguyễn Văn Lộc"}, DOMAIN)
    with pytest.raises(AnsibleFilterError, match="#1"):
        mail_assign_addresses(["Nguyễn Văn Lộc"], DOMAIN)


def test_filter_table():
    assert set(filters_from("names")) == {
        "vn_ascii", "vn_local_part", "mail_assign_addresses", "mail_valid_domain", "mail_valid_address",
    }  # fmt: skip
