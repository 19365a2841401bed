import unicodedata
import warnings

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import (
    SCHEMES,
    WEAK_PASSWORDS,
    mail_passwd_newly_locked,
    mail_passwd_parse,
    mail_password_hash,
    mail_password_policy,
    mail_password_verify,
)
from filter_table import filters_from
from passlib.hash import bcrypt as passlib_bcrypt

PW = "Tr@ngDồng-2024"
ACCOUNT = "locnv@gialai.gov.vn"


@pytest.fixture(scope="module")
def blf():
    return mail_password_hash(PW, "BLF-CRYPT", rounds=4)


@pytest.fixture(scope="module")
def sha():
    return mail_password_hash(PW, "SHA512-CRYPT", rounds=1000)


# --------------------------------------------------------------------------- hashing


def test_blf_crypt_format_and_verify(blf):
    assert blf.startswith("{BLF-CRYPT}$2y$04$")
    assert len(blf) == len("{BLF-CRYPT}") + 60
    assert mail_password_verify(PW, blf) is True
    assert mail_password_verify(PW + "x", blf) is False


def test_blf_crypt_default_cost_is_10():
    assert mail_password_hash(PW).startswith("{BLF-CRYPT}$2y$10$")


def test_sha512_crypt_default_rounds_5000_implicit():
    hashed = mail_password_hash(PW, "SHA512-CRYPT")
    assert hashed.startswith("{SHA512-CRYPT}$6$")
    assert "rounds=" not in hashed  # 5000 is the implicit crypt(3) default
    assert mail_password_verify(PW, hashed)


def test_sha512_crypt_explicit_rounds(sha):
    assert sha.startswith("{SHA512-CRYPT}$6$rounds=1000$")
    assert mail_password_verify(PW, sha)


def test_scheme_name_is_case_insensitive():
    assert mail_password_hash(PW, "blf-crypt", rounds=4).startswith(
        "{BLF-CRYPT}$2y$04$"
    )


def test_fresh_hashes_are_salted():
    assert mail_password_hash(PW, rounds=4) != mail_password_hash(PW, rounds=4)


def test_existing_hash_is_kept(blf, sha):
    assert mail_password_hash(PW, "BLF-CRYPT", existing=blf) == blf
    assert mail_password_hash(PW, "BLF-CRYPT", existing=blf, rounds=4) == blf
    assert mail_password_hash(PW, "SHA512-CRYPT", existing=sha) == sha
    assert (
        mail_password_hash(PW, "BLF-CRYPT", existing=blf + "\n") == blf
    )  # as read from a file


def test_existing_without_prefix_is_kept_with_prefix(blf):
    body = blf[len("{BLF-CRYPT}") :]
    assert mail_password_hash(PW, "BLF-CRYPT", existing=body) == blf


def test_existing_2b_ident_is_accepted():
    body = passlib_bcrypt.using(rounds=4, ident="2b").hash(PW)
    assert mail_password_hash(PW, existing=body) == "{BLF-CRYPT}" + body


def test_existing_of_other_scheme_is_replaced(blf, sha):
    new = mail_password_hash(PW, "BLF-CRYPT", existing=sha, rounds=4)
    assert new.startswith("{BLF-CRYPT}$2y$04$") and mail_password_verify(PW, new)
    new = mail_password_hash(PW, "SHA512-CRYPT", existing=blf)
    assert new.startswith("{SHA512-CRYPT}$6$") and mail_password_verify(PW, new)


def test_existing_with_wrong_password_is_replaced(blf):
    new = mail_password_hash("Kh@cHoàn-Toàn9", "BLF-CRYPT", existing=blf, rounds=4)
    assert new != blf
    assert mail_password_verify("Kh@cHoàn-Toàn9", new)
    assert not mail_password_verify(PW, new)


def test_existing_with_other_cost_replaced_only_when_rounds_given(blf):
    assert mail_password_hash(PW, "BLF-CRYPT", existing=blf) == blf  # any cost accepted
    new = mail_password_hash(PW, "BLF-CRYPT", existing=blf, rounds=5)
    assert new.startswith("{BLF-CRYPT}$2y$05$")


@pytest.mark.parametrize(
    "existing",
    [
        "",
        "   ",
        None,
        "{BLF-CRYPT}",
        "{BLF-CRYPT}$2y$04$garbage",
        "{PLAIN}" + PW,
        "{CRYPT}$2y$04$x",
        "*",
        "!locked",
    ],
)
def test_unusable_existing_gives_fresh_hash(existing):
    new = mail_password_hash(PW, "BLF-CRYPT", existing=existing, rounds=4)
    assert new.startswith("{BLF-CRYPT}$2y$04$") and mail_password_verify(PW, new)


def test_crypt_prefix_is_not_the_requested_scheme(blf):
    body = blf[len("{BLF-CRYPT}") :]
    new = mail_password_hash(PW, "BLF-CRYPT", existing="{CRYPT}" + body, rounds=4)
    assert new.startswith("{BLF-CRYPT}") and new != "{CRYPT}" + body


def test_prefix_body_mismatch_is_replaced(sha):
    body = sha[len("{SHA512-CRYPT}") :]
    new = mail_password_hash(PW, "SHA512-CRYPT", existing="{BLF-CRYPT}" + body)
    assert new.startswith("{SHA512-CRYPT}$6$") and new != sha


def test_unknown_scheme_lists_supported():
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_hash(PW, "MD5-CRYPT", name=ACCOUNT)
    message = str(exc.value)
    assert (
        "MD5-CRYPT" in message and "BLF-CRYPT" in message and "SHA512-CRYPT" in message
    )
    assert ACCOUNT in message and PW not in message


@pytest.mark.parametrize("password", ["", None, 12345678, ["x"], "abc\x00def"])
def test_bad_password_rejected(password):
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_hash(password, name=ACCOUNT)
    assert ACCOUNT in str(exc.value)
    if isinstance(password, str) and password:
        assert password not in str(exc.value)


def test_bad_rounds_message_has_no_secret():
    for rounds in (3, 32, "many"):
        with pytest.raises(AnsibleFilterError) as exc:
            mail_password_hash(PW, "BLF-CRYPT", rounds=rounds, name=ACCOUNT)
        assert ACCOUNT in str(exc.value) and PW not in str(exc.value)


def test_hashes_work_with_system_crypt(blf, sha):
    """libxcrypt (what Dovecot's *-CRYPT schemes call) must accept our hashes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")
    for hashed in (blf, sha):
        body = hashed.split("}", 1)[1]
        result = crypt.crypt(PW, body)
        if result is None:
            pytest.skip("system crypt lacks this method")
        assert result == body
        assert crypt.crypt(PW + "x", body) != body


def test_argon2id_with_the_pinned_backend():
    """requirements.txt pins argon2-cffi, so the controller always has the backend."""
    assert "ARGON2ID" in SCHEMES
    hashed = mail_password_hash(PW, "ARGON2ID", rounds=1)
    assert hashed.startswith("{ARGON2ID}$argon2id$v=19$m=65536,t=1,p=1$")
    assert mail_password_hash(PW, "ARGON2ID", existing=hashed) == hashed


def test_supported_schemes():
    assert (
        {"BLF-CRYPT", "SHA512-CRYPT"}
        <= set(SCHEMES)
        <= {"BLF-CRYPT", "SHA512-CRYPT", "ARGON2ID"}
    )


# --------------------------------------------------------------------------- verify


def test_verify_without_prefix(blf, sha):
    assert mail_password_verify(PW, blf.split("}", 1)[1])
    assert mail_password_verify(PW, sha.split("}", 1)[1])


@pytest.mark.parametrize(
    "hashed", [None, "", "{PLAIN}" + PW, PW, "{SHA512-CRYPT}$6$broken", 42]
)
def test_verify_unusable_hash_is_false(hashed):
    assert mail_password_verify(PW, hashed) is False


def test_verify_needs_a_password(blf):
    with pytest.raises(AnsibleFilterError):
        mail_password_verify(None, blf)


# --------------------------------------------------------------------------- policy


def test_policy_accepts_good_password():
    assert mail_password_policy(PW, name=ACCOUNT) == PW
    assert mail_password_policy("Lộcđẹptrai9", name=ACCOUNT) == "Lộcđẹptrai9"


def test_policy_too_short_message():
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_policy("Ab1!xyz", name=ACCOUNT)
    assert (
        str(exc.value)
        == f"password of '{ACCOUNT}' is too weak: fewer than 8 characters"
    )


def test_policy_lists_every_failed_rule():
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_policy("locnv12", name=ACCOUNT)
    message = str(exc.value)
    assert "fewer than 8 characters" in message
    assert "2 of the character classes" in message and "at least 3 required" in message
    assert "contains the account name 'locnv'" in message
    assert "locnv12" not in message


def test_policy_vietnamese_letters_count_as_cased():
    # Ộ uppercase, ư/ơ lowercase, digits: 3 classes without any ASCII letter
    assert mail_password_policy("ỘƯƠươộ1234") == "ỘƯƠươộ1234"
    with pytest.raises(AnsibleFilterError, match="1 of the character classes"):
        mail_password_policy("đườnghưởngộ")


def test_policy_length_counts_nfc_characters():
    short = "Lộc@Ab1"  # 7 characters
    decomposed = unicodedata.normalize("NFD", short)
    assert len(decomposed) >= 8
    with pytest.raises(AnsibleFilterError, match="fewer than 8"):
        mail_password_policy(decomposed)


def test_policy_min_classes_and_length_options():
    assert mail_password_policy("đườnghưởngộ", min_classes=1) == "đườnghưởngộ"
    assert len(PW) == 14
    assert mail_password_policy(PW, min_length=14) == PW
    with pytest.raises(AnsibleFilterError, match="fewer than 15 characters"):
        mail_password_policy(PW, min_length=15)
    with pytest.raises(AnsibleFilterError, match="at least 4 required"):
        mail_password_policy("Lộcđẹptrai9", min_classes=4)


@pytest.mark.parametrize(
    "password",
    ["Gialai@123", "gialai@123", "P@SSW0RD", "Admin@123", "12345678Aa", "Abc@12345"],
)
def test_policy_builtin_weak_list(password):
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_policy(password, name=ACCOUNT)
    assert "well-known weak password" in str(exc.value)
    assert password not in str(exc.value)


def test_policy_builtin_list_is_casefolded():
    assert "gialai@123" in WEAK_PASSWORDS and "Gialai@123" not in WEAK_PASSWORDS


def test_policy_extra_weak_list():
    assert mail_password_policy("Pleiku#2030x") == "Pleiku#2030x"
    with pytest.raises(AnsibleFilterError, match="well-known weak"):
        mail_password_policy("Pleiku#2030x", weak=["PLEIKU#2030X", None])
    with pytest.raises(AnsibleFilterError, match="well-known weak"):
        mail_password_policy("Pleiku#2030x", weak="pleiku#2030x")


def test_policy_account_name_check():
    with pytest.raises(AnsibleFilterError, match="contains the account name 'locnv'"):
        mail_password_policy("xx-LOCNV-2024!", name=ACCOUNT)
    with pytest.raises(AnsibleFilterError, match="contains the account name 'locnv'"):
        mail_password_policy("xx-LOCNV-2024!", name="locnv")
    # local parts shorter than 3 characters are not checked
    assert (
        mail_password_policy("Bàn-an-2024!", name="an@gialai.gov.vn") == "Bàn-an-2024!"
    )


def test_policy_whitespace_and_control_characters():
    with pytest.raises(AnsibleFilterError, match="begins or ends with whitespace"):
        mail_password_policy(PW + "\n", name=ACCOUNT)
    with pytest.raises(AnsibleFilterError, match="control characters"):
        mail_password_policy("Tr@ng\tDồng-2024", name=ACCOUNT)


def test_policy_without_name():
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_policy("short")
    assert str(exc.value).startswith("password is too weak: ")


@pytest.mark.parametrize("password", [None, 12345678, b"bytes-pass"])
def test_policy_non_string(password):
    with pytest.raises(AnsibleFilterError, match="must be a string"):
        mail_password_policy(password, name=ACCOUNT)


@pytest.mark.parametrize(
    "kwargs",
    [{"min_classes": 5}, {"min_classes": 0}, {"min_length": "8"}, {"min_length": True}],
)
def test_policy_bad_options(kwargs):
    with pytest.raises(AnsibleFilterError) as exc:
        mail_password_policy(PW, **kwargs)
    assert PW not in str(exc.value)


# --------------------------------------------------------------------------- passwd-file


def test_passwd_parse():
    content = (
        "# Dovecot users\n"
        "\n"
        "locnv@gialai.gov.vn:{BLF-CRYPT}$2y$10$abcdefghijklmnopqrstuv:5000:5000::/var/vmail/locnv::userdb_quota_rule=*:storage=2G\r\n"
        "   # indented comment\n"
        "daott@gialai.gov.vn:{SHA512-CRYPT}$6$salt$hash\n"
        "only@gialai.gov.vn\n"
        "locnv@gialai.gov.vn:{BLF-CRYPT}second-wins-not\n"
        "  hoalt@gialai.gov.vn:{BLF-CRYPT}$2y$10$x::  \n"
        ":{BLF-CRYPT}nouser\n"
    )
    assert mail_passwd_parse(content) == {
        "locnv@gialai.gov.vn": "{BLF-CRYPT}$2y$10$abcdefghijklmnopqrstuv",
        "daott@gialai.gov.vn": "{SHA512-CRYPT}$6$salt$hash",
        "only@gialai.gov.vn": "",
        "hoalt@gialai.gov.vn": "{BLF-CRYPT}$2y$10$x",
    }


@pytest.mark.parametrize("content", [None, "", "\n\n# nothing\n"])
def test_passwd_parse_empty(content):
    assert mail_passwd_parse(content) == {}


def test_passwd_parse_bytes_and_bad_type():
    assert mail_passwd_parse(b"a@b.vn:{PLAIN}x\n") == {"a@b.vn": "{PLAIN}x"}
    with pytest.raises(AnsibleFilterError):
        mail_passwd_parse(["a:b"])


def test_parse_then_hash_round_trip(blf):
    current = mail_passwd_parse(f"{ACCOUNT}:{blf}:5000:5000::/var/vmail/locnv::\n")
    assert mail_password_hash(PW, existing=current.get(ACCOUNT), name=ACCOUNT) == blf
    new = mail_password_hash(PW, existing=current.get("nobody@gialai.gov.vn"), rounds=4)
    assert new != blf and mail_password_verify(PW, new)


def test_filter_table():
    assert set(filters_from("passwords")) == {
        "mail_password_hash", "mail_password_verify", "mail_password_policy", "mail_passwd_parse",
        "mail_check_passwords", "mail_passwd_newly_locked",
    }  # fmt: skip


def test_check_passwords_names_the_first_weak_account_and_not_its_password():
    from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_check_passwords

    accounts = [
        {"address": "locnv@gialai.gov.vn", "password": "Loc-Nguyen#26x"},
        {"address": "yeu@gialai.gov.vn", "password": "abcdefgh"},
        {"address": "hash@gialai.gov.vn", "password_hash": "{SHA512-CRYPT}$6$x$y"},
    ]
    with pytest.raises(AnsibleFilterError) as exc:
        mail_check_passwords(accounts, {"min_length": 8, "min_classes": 3})
    assert "yeu@gialai.gov.vn" in str(exc.value)
    assert "abcdefgh" not in str(exc.value)
    assert mail_check_passwords(accounts[:1] + accounts[2:], {"min_length": 8}) == accounts[:1] + accounts[2:]


def test_check_passwords_rejects_unknown_policy_options():
    from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_check_passwords

    with pytest.raises(AnsibleFilterError, match="min_lenght"):
        mail_check_passwords([], {"min_lenght": 8})


LOCKED = "{SHA512-CRYPT}$6$locked$hash"


def test_newly_locked_lists_who_could_log_in_and_no_longer_can():
    before = (f"locnv@gialai.gov.vn:{{BLF-CRYPT}}$2y$x\nTamLT@gialai.gov.vn:{{BLF-CRYPT}}$2y$y\n"
              f"namtq@gialai.gov.vn:{{BLF-CRYPT}}$2y$z\nhungpv@gialai.gov.vn:{LOCKED}\n")
    users = [{"address": "locnv@gialai.gov.vn"},                      # still active
             {"address": "tamlt@gialai.gov.vn", "login": False},      # suspended now
             {"address": "hungpv@gialai.gov.vn", "login": False},     # locked before already
             {"address": "moi@gialai.gov.vn", "login": False}]        # new, never could
    # namtq is gone from the list (revoked): locked too
    assert mail_passwd_newly_locked(before, users, LOCKED) == ["namtq@gialai.gov.vn", "tamlt@gialai.gov.vn"]


@pytest.mark.parametrize("before", [None, "", "# empty\n"])
def test_newly_locked_on_a_first_run_is_nobody(before):
    assert mail_passwd_newly_locked(before, [{"address": "a@b.vn", "login": False}], LOCKED) == []


def test_newly_locked_after_an_unchanged_rewrite_is_nobody():
    before = f"a@b.vn:{{BLF-CRYPT}}$2y$x\nc@b.vn:{LOCKED}\n"
    assert mail_passwd_newly_locked(before, [{"address": "a@b.vn"}, {"address": "c@b.vn", "login": False}],
                                    LOCKED) == []


def test_newly_locked_refuses_what_is_not_a_list_of_mailboxes():
    with pytest.raises(AnsibleFilterError):
        mail_passwd_newly_locked("", {"a@b.vn": {}}, LOCKED)
