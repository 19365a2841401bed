"""IMAP and POP3 as an outside client sees them.

The read-only checks (no plaintext login, greeting, POP3 closed: tests/audit/test_imap.py,
which playbooks/audit.yml runs against deployed servers) are this module's tests too.
"""

from __future__ import annotations

import imaplib

import pytest

from tests.audit.test_imap import (  # noqa: F401  (collected here: the read-only checks on this scenario's hosts)
    test_imap_greeting_has_no_software_name, test_plaintext_imap_login_is_refused, test_pop3_is_closed)
from tests.helpers.mailclient import IMAP, IMAPS


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


