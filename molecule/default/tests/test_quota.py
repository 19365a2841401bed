"""Quotas as a sender and the user see them: a message that would not fit is
refused at RCPT time (552, Dovecot quota-status asked by Postfix), never
accepted and bounced later; the user crossing the warning level gets a mail;
the quota shows over IMAP (RFC 2087); submission is checked too."""

from __future__ import annotations

import email
import email.header
import os
import time

import pytest

from tests.helpers.mailclient import IMAPS, SMTP, make_message, smtp_send

# Runs alone (tests/helpers/exclusive.py): fills a mailbox and points Postfix at a dead policy service.
pytestmark = pytest.mark.exclusive

OUTSIDE = "sender@partner.example"
SMALL = "luutru@gialai.gov.vn"  # quota 1M in the lab data
SENDER = "locnv@gialai.gov.vn"
WARNING_SUBJECT = "Hộp thư sắp đầy / Mailbox almost full"


def _empty(mail):
    assert mail.host.run(f"doveadm expunge -u {SMALL} mailbox '*' all").rc == 0
    assert mail.host.run(f"doveadm quota recalc -u {SMALL}").rc == 0


def _rcpt(mail, port: int, size: int, login: tuple[str, str] | None = None) -> tuple[int, bytes]:
    with SMTP(mail.target, port) as client:
        client.ehlo()
        if port == 587:
            client.starttls()
            client.ehlo()
            client.login(*login)
        assert client.mail(login[0] if login else OUTSIDE, [f"SIZE={size}"])[0] == 250
        return client.rcpt(SMALL)


def _subjects(mail) -> list[str]:
    with IMAPS(mail.target) as imap:
        imap.login(SMALL, mail.lab.password(SMALL))
        imap.select("INBOX", readonly=True)
        _typ, data = imap.search(None, "ALL")
        out = []
        for num in data[0].split():
            _typ, parts = imap.fetch(num, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            raw = email.message_from_bytes(parts[0][1])["Subject"] or ""
            out.append(str(email.header.make_header(email.header.decode_header(raw))))
        return out


@pytest.mark.control("ACC-06")
def test_message_too_big_for_the_quota_is_refused_at_rcpt_on_every_port(mail, evidence):
    _empty(mail)
    code, reply = _rcpt(mail, 25, 2 * 1024 * 1024)
    assert code == 552 and b"5.2." in reply and b"quota" in reply.lower(), (code, reply)
    evidence(f"RCPT {SMALL} with SIZE=2 MB on 25: {code} {reply.decode()}")
    code, reply = _rcpt(mail, 587, 2 * 1024 * 1024, login=(SENDER, mail.lab.password(SENDER)))
    assert code == 552 and b"5.2." in reply, (code, reply)
    # A message that fits is accepted on the same terms.
    code, reply = _rcpt(mail, 25, 100 * 1024)
    assert code == 250, (code, reply)


@pytest.mark.control("ACC-06")
def test_user_crossing_the_warning_level_is_warned_and_a_full_mailbox_refuses_more(mail, evidence):
    _empty(mail)
    # ~940 KB of the 1 MB quota: crosses the 90 % warning level.
    msg = make_message(OUTSIDE, [SMALL], "Hồ sơ lưu trữ", attachment=os.urandom(690 * 1024))
    assert smtp_send(mail.target, msg, port=25) == {}
    deadline = time.monotonic() + 60
    while WARNING_SUBJECT not in (subjects := _subjects(mail)) and time.monotonic() < deadline:
        time.sleep(1)
    assert WARNING_SUBJECT in subjects and "Hồ sơ lưu trữ" in subjects, subjects
    evidence(f"after a 940 KB message into a 1 MB mailbox: {subjects}")
    # Over IMAP the user sees the quota (RFC 2087).
    with IMAPS(mail.target) as imap:
        imap.login(SMALL, mail.lab.password(SMALL))
        typ, data = imap.getquotaroot("INBOX")
    assert typ == "OK" and b"STORAGE" in b" ".join(d if isinstance(d, bytes) else b" ".join(d) for d in data), data
    # Even a small message no longer fits: refused at RCPT, nothing queued to bounce later.
    code, reply = _rcpt(mail, 25, 200 * 1024)
    assert code == 552 and b"5.2.2" in reply, (code, reply)
    queue = mail.host.run("postqueue -j").stdout
    assert SMALL not in queue, queue
    _empty(mail)


@pytest.mark.control("ACC-06")
def test_quota_service_down_means_wait_not_accept(mail):
    """A dead quota-status must not let mail in unchecked: Postfix answers 4xx."""
    _empty(mail)
    # Stop only the listener: move Postfix to a port where nothing answers.
    assert mail.host.run("postconf -e 'smtpd_policy_service_timeout=5s'").rc == 0
    try:
        assert mail.host.run(
            "sed -i 's/inet:127.0.0.1:12340/inet:127.0.0.1:12399/' /etc/postfix/main.cf && postfix reload").rc == 0
        code, reply = _rcpt_after_reload(mail, lambda code: code != 250)
        assert code == 450 or code == 451, (code, reply)
    finally:
        mail.host.run("sed -i 's/inet:127.0.0.1:12399/inet:127.0.0.1:12340/' /etc/postfix/main.cf && "
                      "postconf -X smtpd_policy_service_timeout && postfix reload")
    code, reply = _rcpt_after_reload(mail, lambda code: code == 250)
    assert code == 250, (code, reply)


def _rcpt_after_reload(mail, took_effect, seconds: float = 60) -> tuple[int, bytes]:
    """RCPT on 25 (1 KB), asked again (bounded) until `took_effect(code)`: `postfix reload`
    returns at once, and a session can still meet an smtpd of the old configuration
    until the master has replaced them. Returns the last answer; the caller asserts on it."""
    deadline = time.monotonic() + seconds
    while True:
        code, reply = _rcpt(mail, 25, 1024)
        if took_effect(code) or time.monotonic() > deadline:
            return code, reply
        time.sleep(0.5)
