"""The submission From: guard's decisions (roles/postfix/files/usr/local/sbin/postfix-fromguard).

The milter itself is exercised over SMTP by molecule/default/tests/test_smtp.py;
these cases pin down what the header judge accepts and refuses, including the
display-name and encoded-word tricks a phished account would try.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import pathlib

import pytest

PATH = pathlib.Path(__file__).resolve().parents[2] / "roles/postfix/files/usr/local/sbin/postfix-fromguard"
_loader = importlib.machinery.SourceFileLoader("postfix_fromguard", str(PATH))
_spec = importlib.util.spec_from_loader("postfix_fromguard", _loader)
guard = importlib.util.module_from_spec(_spec)
_loader.exec_module(guard)

MAP = """# Envelope sender -> SASL logins allowed to use it
hoatt@gialai.gov.vn hoatt@gialai.gov.vn
locnv@gialai.gov.vn locnv@gialai.gov.vn
vanphong@gialai.gov.vn vanphong@gialai.gov.vn, hoatt@gialai.gov.vn
hanhchinh@gialai.gov.vn hoatt@gialai.gov.vn
"""
ALLOWED = guard.parse_login_map(MAP)
LOC = "locnv@gialai.gov.vn"


def judge(login, *headers):
    return guard.judge_headers(login, list(headers), ALLOWED)


def test_the_map_gives_each_login_its_own_and_granted_addresses():
    assert ALLOWED["hoatt@gialai.gov.vn"] == {"hoatt@gialai.gov.vn", "vanphong@gialai.gov.vn",
                                              "hanhchinh@gialai.gov.vn"}
    assert ALLOWED[LOC] == {LOC}


def test_a_malformed_map_line_is_refused_with_its_number():
    with pytest.raises(ValueError, match="line 2"):
        guard.parse_login_map("a@b.vn a@b.vn\njust-a-word\n")


@pytest.mark.parametrize("value", [
    "locnv@gialai.gov.vn",
    "<locnv@gialai.gov.vn>",
    "Nguyễn Văn Lộc <locnv@gialai.gov.vn>",
    "=?UTF-8?B?Tmd1eeG7hW4gVsSDbiBM4buZYw==?= <locnv@gialai.gov.vn>",
    '"Lộc" <LocNV@GiaLai.gov.vn>',
    # folded by the client (a long encoded name), as the milter receives it
    "=?utf-8?b?Tmd1eeG7hW4gVsSDbiBM4buZYw==?=\r\n <locnv@gialai.gov.vn>",
    "=?utf-8?b?Tmd1eeG7hW4gVsSDbiBM4buZYw==?=\n\t<locnv@gialai.gov.vn>",
])
def test_the_logins_own_address_is_accepted_however_it_is_written(value):
    assert judge(LOC, ("From", value)) is None


def test_a_granted_unit_mailbox_and_alias_are_accepted_for_the_granted_login_only():
    for unit in ("vanphong@gialai.gov.vn", "hanhchinh@gialai.gov.vn"):
        assert judge("hoatt@gialai.gov.vn", ("From", f"Văn phòng <{unit}>")) is None
        assert "is not an address" in judge(LOC, ("From", f"Văn phòng <{unit}>"))


@pytest.mark.parametrize("value,reason", [
    ("Chu tich UBND <chutich@gialai.gov.vn>", "<chutich@gialai.gov.vn> is not an address locnv@"),
    ("<locnv@gialai.gov.vn>, <chutich@gialai.gov.vn>", "exactly one address (it names 2)"),
    ('"chutich@gialai.gov.vn" <locnv@gialai.gov.vn>', "shows another address (chutich@gialai.gov.vn)"),
    ("locnv@gialai.gov.vn (chutich@gialai.gov.vn)", "shows another address (chutich@gialai.gov.vn)"),
    # the display name "chutich@gialai.gov.vn" hidden in an encoded word
    ("=?UTF-8?B?Y2h1dGljaEBnaWFsYWkuZ292LnZu?= <locnv@gialai.gov.vn>", "shows another address"),
    ("chutich@gialai.gov.vn <locnv@gialai.gov.vn>", "malformed"),
    ("undisclosed-recipients:;", "exactly one address (it names 0)"),
    ("", "exactly one address (it names 0)"),
    ("locnv", "malformed"),
])
def test_a_forged_or_ambiguous_from_is_refused_naming_the_reason(value, reason):
    assert reason in (judge(LOC, ("From", value)) or "accepted")


def test_no_from_or_two_from_headers_are_refused():
    assert "exactly one From: header (it has 0)" in judge(LOC, ("Subject", "x"))
    assert "(it has 2)" in judge(LOC, ("From", LOC), ("From", LOC))


def test_sender_header_is_held_to_the_same_rule():
    assert judge(LOC, ("From", LOC), ("Sender", LOC)) is None
    assert "Sender: <chutich@gialai.gov.vn>" in judge(LOC, ("From", LOC), ("Sender", "chutich@gialai.gov.vn"))


def test_a_login_missing_from_the_map_may_send_as_nobody():
    assert "is not an address" in judge("ghost@gialai.gov.vn", ("From", "ghost@gialai.gov.vn"))


def test_unauthenticated_mail_is_not_judged():
    assert judge(None, ("From", "chutich@gialai.gov.vn")) is None


def test_a_null_envelope_sender_is_refused_only_when_authenticated():
    assert "null envelope sender" in guard.judge_envelope(LOC, "<>")
    assert guard.judge_envelope(None, "<>") is None
    assert guard.judge_envelope(LOC, "<locnv@gialai.gov.vn>") is None


def test_the_table_is_read_again_when_it_changes(tmp_path):
    path = tmp_path / "sender_login_maps"
    path.write_text("locnv@gialai.gov.vn locnv@gialai.gov.vn\n")
    table = guard.LoginMap(str(path))
    assert "hoatt@gialai.gov.vn" not in table.current()
    path.write_text(MAP)
    assert table.current()["hoatt@gialai.gov.vn"] >= {"vanphong@gialai.gov.vn"}


def test_check_mode_reports_the_logins_and_a_bad_table(tmp_path, capsys):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(MAP)
    bad.write_text("oops\n")
    assert guard.main(["--check", "--map", str(good)]) == 0
    assert "3 logins" in capsys.readouterr().out
    assert guard.main(["--check", "--map", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
