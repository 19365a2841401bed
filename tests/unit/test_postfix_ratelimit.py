"""The submission rate-limit policy daemon's window and answers (roles/postfix/files)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import pathlib

import pytest

PATH = pathlib.Path(__file__).resolve().parents[2] / "roles/postfix/files/usr/local/sbin/postfix-ratelimit"
_loader = importlib.machinery.SourceFileLoader("postfix_ratelimit", str(PATH))
_spec = importlib.util.spec_from_loader("postfix_ratelimit", _loader)
prl = importlib.util.module_from_spec(_spec)
_loader.exec_module(prl)

CONFIG = {"window": 3600,
          "classes": {"default": {"messages": 3, "recipients": 5}, "bulk": {"messages": 10, "recipients": 50}},
          "accounts": {"VanPhong@gialai.gov.vn": "bulk"}}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def send(limiter, user, recipients=1, instance="i1"):
    answers = [limiter.check({"sasl_username": user, "protocol_state": "RCPT", "instance": instance})
               for _ in range(recipients)]
    accepted = answers.count("DUNNO")
    if accepted:
        limiter.check({"sasl_username": user, "protocol_state": "END-OF-MESSAGE", "instance": instance,
                       "recipient_count": str(accepted)})
    return answers


def test_messages_over_the_limit_are_deferred_naming_the_user(caplog):
    limiter = prl.Limiter(CONFIG, clock=Clock())
    for n in range(3):
        assert send(limiter, "locnv@gialai.gov.vn", instance=f"m{n}") == ["DUNNO"]
    answer = send(limiter, "locnv@gialai.gov.vn", instance="m4")[0]
    assert answer.startswith("DEFER_IF_PERMIT 4.7.1 rate limit for locnv@gialai.gov.vn")
    assert "user=locnv@gialai.gov.vn" in caplog.text


def test_recipients_count_within_one_message():
    limiter = prl.Limiter(CONFIG, clock=Clock())
    answers = send(limiter, "locnv@gialai.gov.vn", recipients=7)
    assert answers[:5] == ["DUNNO"] * 5
    assert all(a.startswith("DEFER_IF_PERMIT 4.7.1") for a in answers[5:])
    # the five accepted recipients used the whole recipient budget
    assert send(limiter, "locnv@gialai.gov.vn", instance="next")[0].startswith("DEFER_IF_PERMIT")


def test_the_window_slides():
    clock = Clock()
    limiter = prl.Limiter(CONFIG, clock=clock)
    for n in range(3):
        send(limiter, "hoatt@gialai.gov.vn", instance=f"a{n}")
        clock.now += 600
    assert send(limiter, "hoatt@gialai.gov.vn", instance="b")[0].startswith("DEFER")
    clock.now += 1801  # now 4601: the first message (t=1000) has left the one-hour window
    assert send(limiter, "hoatt@gialai.gov.vn", instance="c") == ["DUNNO"]
    assert send(limiter, "hoatt@gialai.gov.vn", instance="d")[0].startswith("DEFER")


def test_users_are_counted_apart_and_classes_apply_case_insensitively():
    limiter = prl.Limiter(CONFIG, clock=Clock())
    for n in range(3):
        send(limiter, "locnv@gialai.gov.vn", instance=f"l{n}")
    assert send(limiter, "hoatt@gialai.gov.vn", instance="h") == ["DUNNO"]
    for n in range(9):
        assert send(limiter, "vanphong@gialai.gov.vn", instance=f"v{n}") == ["DUNNO"]


def test_unauthenticated_requests_are_not_judged():
    limiter = prl.Limiter(CONFIG, clock=Clock())
    assert limiter.check({"protocol_state": "RCPT", "sasl_username": ""}) == "DUNNO"


@pytest.mark.parametrize("bad", [
    {"classes": {}},
    {"classes": {"default": {"messages": 0, "recipients": 5}}},
    {"classes": {"default": {"messages": "10", "recipients": 5}}},
    {"classes": {"default": {"messages": 1, "recipients": 5}}, "accounts": {"a@b.vn": "vip"}},
    {"window": 0, "classes": {"default": {"messages": 1, "recipients": 1}}},
])
def test_bad_configuration_is_refused(bad):
    with pytest.raises(ValueError):
        prl.Limiter(bad)


def test_protocol_round_trip():
    request = prl.parse_request(["request=smtpd_access_policy", "protocol_state=RCPT", "sasl_username=a@b.vn",
                                 "instance=1.2.3"])
    assert request["sasl_username"] == "a@b.vn" and request["instance"] == "1.2.3"
