"""IMAP and POP3 as an outside client sees them, read-only: no login before TLS, a greeting
without the software's name, POP3 closed."""

from __future__ import annotations

import imaplib
import socket

import pytest

from tests.helpers.mailclient import IMAP, IMAPS

# Dovecot answers on mail_store hosts (tests/audit/conftest.py).
pytestmark = pytest.mark.mail_groups("mail_store")


@pytest.mark.control("IMAP-01")
def test_plaintext_imap_login_is_refused(mail, evidence):
    user = "locnv@gialai.gov.vn"
    with IMAP(mail.target, 143) as imap:
        caps = imap.capabilities
        assert "LOGINDISABLED" in caps
        assert "STARTTLS" in caps
        assert not any(c.startswith("AUTH=") for c in caps)
        with pytest.raises(imaplib.IMAP4.error) as exc:
            imap.login(user, mail.known_passwords.get(user, "audit-probe"))
        assert "PRIVACYREQUIRED" in str(exc.value) or "disabled" in str(exc.value).lower()
        evidence(f"143 before STARTTLS: capabilities {' '.join(caps)}; LOGIN: {exc.value}")


@pytest.mark.control("IMAP-03")
def test_imap_greeting_has_no_software_name(mail):
    with IMAPS(mail.target) as imap:
        greeting = imap.welcome.decode()
    assert "dovecot" not in greeting.lower(), greeting


@pytest.mark.control("IMAP-03")
@pytest.mark.parametrize("port", [110, 995])
def test_pop3_is_closed(mail, port):
    # Refused (nothing listens) or, behind the firewall role's default-deny policy, dropped.
    with pytest.raises((ConnectionRefusedError, TimeoutError)):
        socket.create_connection((mail.target.address, port), timeout=5).close()
    assert not mail.host.socket(f"tcp://0.0.0.0:{port}").is_listening
    assert not mail.host.socket(f"tcp://:::{port}").is_listening
