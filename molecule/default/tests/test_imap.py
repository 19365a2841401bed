"""IMAP and POP3 as an outside client sees them."""

from __future__ import annotations

import imaplib
import socket

import pytest

from tests.helpers.mailclient import IMAP, IMAPS


@pytest.mark.audit
@pytest.mark.control("IMAP-01")
def test_plaintext_imap_login_is_refused(mail, evidence):
    user = "locnv@gialai.gov.vn"
    with IMAP(mail.target, 143) as imap:
        caps = imap.capabilities
        assert "LOGINDISABLED" in caps
        assert "STARTTLS" in caps
        assert not any(c.startswith("AUTH=") for c in caps)
        with pytest.raises(imaplib.IMAP4.error) as exc:
            imap.login(user, mail.lab.passwords.get(user, "audit-probe"))
        assert "PRIVACYREQUIRED" in str(exc.value) or "disabled" in str(exc.value).lower()
        evidence(f"143 before STARTTLS: capabilities {' '.join(caps)}; LOGIN: {exc.value}")


@pytest.mark.control("IMAP-02")
def test_imap_login_works_after_starttls(mail):
    user = "hoatt@gialai.gov.vn"
    with IMAP(mail.target, 143) as imap:
        imap.starttls()
        typ, _ = imap.login(user, mail.lab.password(user))
        assert typ == "OK"
        imap.logout()


@pytest.mark.control("IMAP-02")
def test_imaps_login_and_special_folders(mail):
    user = "hoatt@gialai.gov.vn"
    with IMAPS(mail.target) as imap:
        assert imap.login(user, mail.lab.password(user))[0] == "OK"
        typ, boxes = imap.list()
        names = b"\n".join(boxes)
        for special in (b"\\Sent", b"\\Drafts", b"\\Trash", b"\\Junk"):
            assert special in names
        imap.logout()


@pytest.mark.control("IMAP-02")
def test_imaps_wrong_password_is_refused(mail):
    with IMAPS(mail.target) as imap:
        with pytest.raises(imaplib.IMAP4.error) as exc:
            imap.login("hoatt@gialai.gov.vn", "sai-mat-khau-123")
        assert "AUTHENTICATIONFAILED" in str(exc.value)


@pytest.mark.audit
@pytest.mark.control("IMAP-03")
def test_imap_greeting_has_no_software_name(mail):
    with IMAPS(mail.target) as imap:
        greeting = imap.welcome.decode()
    assert "dovecot" not in greeting.lower(), greeting


@pytest.mark.audit
@pytest.mark.control("IMAP-03")
@pytest.mark.parametrize("port", [110, 995])
def test_pop3_is_closed(mail, port):
    # Refused (nothing listens) or, behind the firewall role's default-deny policy, dropped.
    with pytest.raises((ConnectionRefusedError, TimeoutError)):
        socket.create_connection((mail.target.address, port), timeout=5).close()
    assert not mail.host.socket(f"tcp://0.0.0.0:{port}").is_listening
    assert not mail.host.socket(f"tcp://:::{port}").is_listening
