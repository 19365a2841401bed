"""What the host itself shows: ports, ownership, modes, versions.

The read-only checks (ports, secrets' modes, versions, services: tests/audit/test_host.py,
which playbooks/audit.yml runs against deployed servers) are this module's tests too.
"""

from __future__ import annotations

import pytest

from tests.audit.test_host import (  # noqa: F401  (collected here: the read-only checks on this scenario's hosts)
    test_only_mail_ports_listen_outside_loopback, test_release_matched_software, test_secrets_have_tight_modes,
    test_services_are_running_and_enabled)
from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send


@pytest.mark.control("ACC-04")
def test_mail_store_is_readable_only_by_the_mail_owner(mail):
    rcpt = "vanphong@gialai.gov.vn"
    msg = make_message("sender@partner.example", [rcpt], "permissions probe")
    assert smtp_send(mail.target, msg, port=25) == {}
    assert len(imap_wait_for(mail.target, rcpt, mail.lab.password(rcpt), msg["Message-ID"])) == 1
    store = mail.host.file("/var/vmail")
    assert store.user == "vmail" and store.mode == 0o700
    assert mail.host.user("vmail").uid == 5000
    maildirs = mail.host.run("find /var/vmail -mindepth 2 -maxdepth 3 -type d -name Maildir").stdout.split()
    assert maildirs, "no Maildir was created"
    for path in maildirs:
        f = mail.host.file(path)
        assert f.user == "vmail" and f.mode == 0o700, path
    # no directory under the store lets group or others in
    loose = mail.host.run("find /var/vmail -type d -perm /077 -print -quit").stdout.strip()
    assert loose == "", loose
    # and another local account cannot read a message
    message = mail.host.run(
        f"grep -rl -F '{msg['Message-ID']}' /var/vmail/gialai.gov.vn/vanphong/Maildir/new /var/vmail/gialai.gov.vn/vanphong/Maildir/cur"
    ).stdout.split()[0]
    attempt = mail.host.run(f"setpriv --reuid=nobody --regid=nogroup --clear-groups cat '{message}'")
    assert attempt.rc != 0 and "Permission denied" in attempt.stderr


