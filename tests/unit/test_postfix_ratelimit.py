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


LISTS = {"window": 3600,
         "classes": {"default": {"messages": 5, "recipients": 10}},
         "accounts": {},
         "lists": {"toantinh@gialai.gov.vn": {"size": 8, "allowed": None},
                   "lanhdao@gialai.gov.vn": {"size": 2, "allowed": ["locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"]},
                   "thongbao@gialai.gov.vn": {"size": 3, "allowed": ["vanphong@gialai.gov.vn"]}},
         "delimiter": "+"}


def rcpt(limiter, user, recipient, instance="i1", sender=None):
    return limiter.check({"sasl_username": user, "protocol_state": "RCPT", "instance": instance,
                          "recipient": recipient, "sender": sender or user})


def eom(limiter, user, instance, count):
    return limiter.check({"sasl_username": user, "protocol_state": "END-OF-MESSAGE", "instance": instance,
                          "recipient_count": str(count)})


def test_a_list_counts_as_its_expanded_size():
    limiter = prl.Limiter(LISTS, clock=Clock())
    user = "tamlt@gialai.gov.vn"
    assert rcpt(limiter, user, "toantinh@gialai.gov.vn") == "DUNNO"  # 8 of 10
    assert rcpt(limiter, user, "a@example.org") == "DUNNO"  # 9
    assert rcpt(limiter, user, "b@example.org") == "DUNNO"  # 10
    assert rcpt(limiter, user, "c@example.org").startswith("DEFER_IF_PERMIT 4.7.1")
    assert eom(limiter, user, "i1", 3) == "DUNNO"
    # the message cost 10 recipients (the list's 8 and two more), not 3
    assert rcpt(limiter, user, "d@example.org", instance="i2").startswith("DEFER_IF_PERMIT")


@pytest.mark.parametrize("recipient", ["lanhdao@gialai.gov.vn", "LanhDao@GiaLai.gov.vn", "lanhdao+x@gialai.gov.vn"])
def test_members_only_list_refuses_others_in_every_spelling(recipient, caplog):
    limiter = prl.Limiter(LISTS, clock=Clock())
    answer = rcpt(limiter, "tamlt@gialai.gov.vn", recipient)
    assert answer == "550 5.7.1 <lanhdao@gialai.gov.vn>: tamlt@gialai.gov.vn may not post to this list"
    assert "list post refused: user=tamlt@gialai.gov.vn" in caplog.text
    assert rcpt(limiter, "hoatt@gialai.gov.vn", recipient) == "DUNNO"


def test_an_allowed_envelope_sender_posts_for_its_granted_login():
    limiter = prl.Limiter(LISTS, clock=Clock())
    # hoatt is granted vanphong@ (Postfix's sender_login_maps checked that before this service)
    assert rcpt(limiter, "hoatt@gialai.gov.vn", "thongbao@gialai.gov.vn", sender="vanphong@gialai.gov.vn") == "DUNNO"
    assert rcpt(limiter, "hoatt@gialai.gov.vn", "thongbao@gialai.gov.vn", instance="i2").startswith("550 5.7.1")
    assert rcpt(limiter, "vanphong@gialai.gov.vn", "thongbao@gialai.gov.vn", instance="i3") == "DUNNO"


def test_a_refused_post_costs_nothing():
    limiter = prl.Limiter(LISTS, clock=Clock())
    for n in range(3):
        assert rcpt(limiter, "tamlt@gialai.gov.vn", "lanhdao@gialai.gov.vn", instance="x").startswith("550")
    for n in range(10):
        assert rcpt(limiter, "tamlt@gialai.gov.vn", f"r{n}@example.org", instance="x") == "DUNNO"


def test_parallel_transactions_share_one_budget():
    # ten sessions of one login, each naming 3 recipients before any sends DATA
    limiter = prl.Limiter(LISTS, clock=Clock())
    user, accepted = "locnv@gialai.gov.vn", {}
    for session in range(10):
        answers = [rcpt(limiter, user, f"r{session}-{n}@example.org", instance=f"s{session}") for n in range(3)]
        accepted[f"s{session}"] = answers.count("DUNNO")
    assert sum(accepted.values()) == 10  # not 30
    delivered = [s for s, n in accepted.items() if n and eom(limiter, user, s, n) == "DUNNO"]
    assert sum(accepted[s] for s in delivered) <= 10


def test_the_end_of_message_check_defers_what_rcpt_could_not_see():
    # transactions older than INFLIGHT are not counted at RCPT; the end of message still is
    clock = Clock()
    limiter = prl.Limiter(LISTS, clock=clock)
    user = "locnv@gialai.gov.vn"
    for n in range(6):
        assert rcpt(limiter, user, f"old{n}@example.org", instance="slow") == "DUNNO"
    clock.now += prl.INFLIGHT + 1
    for n in range(6):
        assert rcpt(limiter, user, f"new{n}@example.org", instance="fast") == "DUNNO"
    assert eom(limiter, user, "fast", 6) == "DUNNO"
    answer = eom(limiter, user, "slow", 6)
    assert answer.startswith("DEFER 4.7.1 rate limit for locnv@gialai.gov.vn"), answer


@pytest.mark.parametrize("bad", [
    {"lists": {"a@b.vn": {"size": 0, "allowed": None}}},
    {"lists": {"a@b.vn": {"size": 2, "allowed": "x@b.vn"}}},
    {"delimiter": 1},
])
def test_bad_list_configuration_is_refused(bad):
    with pytest.raises(ValueError):
        prl.Limiter({"classes": {"default": {"messages": 1, "recipients": 1}}, **bad})


def test_protocol_round_trip():
    request = prl.parse_request(["request=smtpd_access_policy", "protocol_state=RCPT", "sasl_username=a@b.vn",
                                 "instance=1.2.3"])
    assert request["sasl_username"] == "a@b.vn" and request["instance"] == "1.2.3"


def test_unix_socket_is_for_owner_and_group_only_and_answers(tmp_path):
    import socket
    import stat
    import threading

    path = tmp_path / "ratelimit.sock"
    path.write_text("stale")  # left by a previous run: replaced
    server = prl.make_server(f"unix:{path}", prl.Limiter(CONFIG))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mode = path.stat().st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) & 0o007 == 0, oct(mode)  # umask 007: no "other"
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(str(path))
            client.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=a@b.vn\n\n")
            assert client.recv(100) == b"action=DUNNO\n\n"
    finally:
        server.shutdown()
        server.server_close()
