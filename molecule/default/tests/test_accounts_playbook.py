"""playbooks/accounts.yml: account changes only, previewed with --check --diff,
applied without touching the rest of the configuration, and idempotent."""

from __future__ import annotations

import imaplib

import pytest
import yaml

from tests.helpers.lab import LAB_VARS, changed_counts, run_site
from tests.helpers.mailclient import IMAPS, imap_wait_for, make_message, smtp_send

NEW = "thuvien@gialai.gov.vn"
NEW_PASSWORD = "Thu-vien-2026!"


def _accounts_with_new_one() -> list[dict]:
    accounts = yaml.safe_load((LAB_VARS / "mail.yml").read_text())["mail_accounts"]
    return accounts + [{"address": NEW, "name": "Thư viện tỉnh", "password": NEW_PASSWORD}]


def _accounts(mail, extra: dict, *args: str):
    return run_site(mail.name, extra, "all", playbook="playbooks/accounts.yml", args=list(args))


@pytest.mark.control("ACC-05")
def test_new_account_previewed_applied_once_and_removed_again(mail):
    extra = {"mail_accounts": _accounts_with_new_one()}
    main_cf = mail.host.file("/etc/postfix/main.cf").sha256sum
    dovecot_conf = mail.host.file("/etc/dovecot/dovecot.conf").sha256sum

    # Dry run: shows the account that would change, changes nothing.
    preview = _accounts(mail, extra, "--check", "--diff")
    out = preview.stdout + preview.stderr
    assert preview.returncode == 0, out[-3000:]
    assert f"+{NEW}" in out.replace(" ", ""), out[-3000:]
    assert NEW_PASSWORD not in out
    assert NEW not in mail.host.file("/etc/postfix/virtual_mailboxes").content_string

    try:
        applied = _accounts(mail, extra)
        out = applied.stdout + applied.stderr
        assert applied.returncode == 0, out[-3000:]
        assert changed_counts(applied.stdout)[mail.name] > 0
        assert NEW_PASSWORD not in out
        # The new account receives and logs in; nothing else was rewritten.
        msg = make_message("sender@partner.example", [NEW], "Chào thư viện")
        assert smtp_send(mail.target, msg, port=25) == {}
        assert len(imap_wait_for(mail.target, NEW, NEW_PASSWORD, msg["Message-ID"])) == 1
        assert mail.host.file("/etc/postfix/main.cf").sha256sum == main_cf
        assert mail.host.file("/etc/dovecot/dovecot.conf").sha256sum == dovecot_conf
        # Second run: nothing to do (existing hashes kept despite random salts).
        again = _accounts(mail, extra)
        assert again.returncode == 0 and changed_counts(again.stdout)[mail.name] == 0, again.stdout[-3000:]
    finally:
        back = _accounts(mail, {})
        assert back.returncode == 0, (back.stdout + back.stderr)[-3000:]
    # Back to the inventory: the account is gone from both services.
    with IMAPS(mail.target) as imap, pytest.raises(imaplib.IMAP4.error):
        imap.login(NEW, NEW_PASSWORD)
    assert NEW not in mail.host.file("/etc/postfix/virtual_mailboxes").content_string
