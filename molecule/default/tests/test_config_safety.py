"""A broken variable never takes a running service down.

Runs the real site playbook (limited to the configuration tags, as an operator
applying a configuration change would; the input checks run too) against the
converged instances with a variable
that Postfix (or Dovecot) rejects, then checks that the run failed with the
daemon's own words, the files on disk are the previous ones, and mail still
flows.
"""

from __future__ import annotations

import pytest


from tests.helpers.lab import run_site
from tests.helpers.mailclient import SMTP, imap_wait_for, make_message, smtp_send

# Runs alone (tests/helpers/exclusive.py): runs site.yml with a configuration the daemons reject.
pytestmark = pytest.mark.exclusive


def _still_delivers(mail):
    rcpt = "hoatt@gialai.gov.vn"
    msg = make_message("sender@partner.example", [rcpt], "after a failed run")
    assert smtp_send(mail.target, msg, port=25) == {}
    assert len(imap_wait_for(mail.target, rcpt, mail.lab.password(rcpt), msg["Message-ID"])) == 1


@pytest.mark.control("CFG-01")
def test_postfix_rejects_unknown_setting_and_keeps_running(mail):
    before = mail.host.file("/etc/postfix/main.cf").sha256sum
    result = run_site(mail.name, {"postfix_main_cf_extra": {"smtpd_no_such_setting": "yes"}}, "postfix_config")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-2000:]
    assert "Postfix rejected the new configuration" in out, out[-2000:]
    assert "smtpd_no_such_setting" in out
    assert mail.host.file("/etc/postfix/main.cf").sha256sum == before
    assert mail.host.service("postfix").is_running
    with SMTP(mail.target, 25) as client:
        assert client.ehlo()[0] == 250
    _still_delivers(mail)


@pytest.mark.control("CFG-01")
def test_dovecot_rejects_invalid_listener_and_keeps_running(mail):
    before = mail.host.file("/etc/dovecot/dovecot.conf").sha256sum
    flush = mail.host.file("/etc/systemd/system/dovecot.service.d/postfix-flush.conf").sha256sum
    result = run_site(mail.name, {"dovecot_postfix_local": False, "dovecot_lmtp_port": 99999}, "dovecot_config")
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-2000:]
    assert "Invalid port number 99999" in out, out[-2000:]
    assert mail.host.file("/etc/dovecot/dovecot.conf").sha256sum == before
    # nothing else of the refused input was applied: the all-in-one host's flush drop-in stays
    assert mail.host.file("/etc/systemd/system/dovecot.service.d/postfix-flush.conf").sha256sum == flush
    assert mail.host.service("dovecot").is_running
    _still_delivers(mail)
