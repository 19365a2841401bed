"""Account lifecycle (R5) as users and senders see it.

Lab data (inventories/lab, lifecycle date pinned to 2026-11-28):
tamlt suspended; hungpv departed 2026-10-01 (within 6 months' retention);
namtq revoked.
"""

from __future__ import annotations

import imaplib
import smtplib

import pytest

from tests.helpers.mailclient import IMAPS, SMTP, make_message, smtp_send, submission

CANNOT_LOG_IN = ["tamlt@gialai.gov.vn", "hungpv@gialai.gov.vn"]


def _delivered_count(mail, address: str, message_id: str) -> int:
    local, domain = address.split("@")
    out = mail.host.run(
        f"find /var/vmail/{domain}/{local}/Maildir/new /var/vmail/{domain}/{local}/Maildir/cur "
        f"-type f -exec grep -l -F '{message_id}' {{}} + 2>/dev/null"
    )
    return len(out.stdout.split())


@pytest.mark.control("ACC-01")
@pytest.mark.parametrize("address", CANNOT_LOG_IN)
def test_suspended_or_departed_user_cannot_log_in_over_imap(mail, address):
    with IMAPS(mail.target) as imap:
        with pytest.raises(imaplib.IMAP4.error):
            imap.login(address, mail.lab.password(address))


@pytest.mark.control("ACC-01")
@pytest.mark.parametrize("address", CANNOT_LOG_IN)
def test_suspended_or_departed_user_cannot_send(mail, address):
    with submission(mail.target) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            client.login(address, mail.lab.password(address))
        # 535 normally. After the failed logins of the tests before this one, all
        # from the one test client address, Dovecot's per-IP auth penalty delays its
        # answer past Postfix's 10 s SASL wait and Postfix says 454: still refused.
        assert exc.value.smtp_code in (535, 454), exc.value
        # and the session, unauthenticated, can send nothing
        client.mail(address)
        code, reply = client.rcpt("locnv@gialai.gov.vn")
        assert code >= 500, reply


@pytest.mark.control("ACC-01")
@pytest.mark.parametrize("address", CANNOT_LOG_IN)
def test_suspended_or_departed_user_still_receives(mail, address):
    msg = make_message("sender@partner.example", [address], "Vẫn nhận thư khi tạm khóa")
    assert smtp_send(mail.target, msg, port=25) == {}
    for _ in range(30):
        if _delivered_count(mail, address, msg["Message-ID"]) == 1:
            break
        mail.host.run("sleep 1")
    assert _delivered_count(mail, address, msg["Message-ID"]) == 1


@pytest.mark.control("ACC-02")
def test_revoked_address_is_refused_at_rcpt(mail):
    with SMTP(mail.target, 25) as client:
        client.ehlo()
        client.mail("sender@partner.example")
        code, reply = client.rcpt("namtq@gialai.gov.vn")
        assert code == 550, reply


@pytest.mark.control("ACC-02")
def test_active_user_is_unaffected(mail):
    address = "locnv@gialai.gov.vn"
    with IMAPS(mail.target) as imap:
        assert imap.login(address, mail.lab.password(address))[0] == "OK"
