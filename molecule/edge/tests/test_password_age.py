"""R7, change periodically: the maximum password age and its reminders (WEB-19, issue #19).

The edge scenario sets mail_password_max_age_days: 90 (group_vars/edge_mail). The store's daily look
(mail-password-age.timer -> mail-password-age.service -> `mail-password age`) keeps, per
account that may log in, since when its password is in force. The test makes USER's
password older in that ages file (under mail-password's lock, as the program itself
writes it) instead of waiting 76 days, then asks the real service and reads USER's INBOX
over IMAPS: one bilingual reminder at 14 days before the maximum, none on a second look,
one more at the maximum. A suspended account is never looked at.

USER is an active account no edge test changes the password of; the test counts only the
reminders that arrive after it starts, and forgets USER's age at the end (the next look
counts it from then), so a second verify starts where the first did.
"""

from __future__ import annotations

import email
import email.header
import json

import pytest

from tests.helpers.mailclient import imap_wait_for

USER = "hoatt@gialai.gov.vn"
SUSPENDED = "tamlt@gialai.gov.vn"
AGES = "/var/lib/mail-password/ages.json"
LOCK = "/var/lib/mail-password/.lock"
PROGRAM = "/usr/local/lib/mail-password/mail-password"
MAX_DAYS, REMIND_DAYS = 90, 14
# make_msgid("password-age"): what only the reminders' Message-IDs hold
MARK = "password-age"

# Runs under the lock: set (or, with a negative age, forget) USER's age in the ages file,
# written in place (owner and mode kept).
_AGE_SCRIPT = r"""
import json, sys, time
path, user, days = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(path, encoding="utf-8") as f:
    ages = json.load(f)
if days < 0:
    ages.pop(user, None)
else:
    ages[user]["since"] = int(time.time() - days * 86400)
with open(path, "w", encoding="utf-8") as f:
    json.dump(ages, f, indent=1, sort_keys=True)
"""


def make_older(host, days: float) -> None:
    cmd = host.run("flock %s python3 -c %s %s %s %s", LOCK, _AGE_SCRIPT, AGES, USER, str(days))
    assert cmd.rc == 0, cmd.stderr


def look(host) -> list[list[str]]:
    """One look of the installed program as root, as the service runs it: the reminders sent."""
    cmd = host.run(PROGRAM + " age")
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)["reminded"]


def reminders(edge, expect: int) -> list[email.message.Message]:
    raw = imap_wait_for(edge.mail.target, USER, edge.mail.password(USER), MARK, expect=expect, timeout=90)
    return [email.message_from_bytes(r) for r in raw]


def subject(message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


@pytest.mark.control("WEB-19")
def test_a_password_near_its_maximum_age_gets_one_bilingual_reminder_then_one_at_the_maximum(edge):
    host = edge.mail.host
    assert host.service("mail-password-age.timer").is_enabled
    assert host.service("mail-password-age.timer").is_running
    before = len(reminders(edge, 0))
    try:
        # the daily look through its systemd unit: the accounts that may log in are now counted
        started = host.run("systemctl start mail-password-age.service")
        assert started.rc == 0, started.stderr
        ages = json.loads(host.file(AGES).content_string)
        assert USER in ages and SUSPENDED not in ages
        # the suspended account is in the userdb (it still receives), locked: not counted, never reminded
        assert host.run("grep -c '^%s:' /etc/dovecot/users", SUSPENDED).stdout.strip() == "1"
        assert host.file(AGES).user == "mail-password" and host.file(AGES).mode == 0o600

        make_older(host, MAX_DAYS - REMIND_DAYS + 0.01)
        started = host.run("systemctl start mail-password-age.service")
        assert started.rc == 0, started.stderr
        got = reminders(edge, before + 1)
        assert len(got) == before + 1
        soon = got[-1]
        assert "Mật khẩu thư cần được đổi trước ngày" in subject(soon)
        assert "Your mail password must be changed by" in subject(soon)
        assert soon["Auto-Submitted"] == "auto-generated"
        assert soon["From"] == "postmaster@gialai.gov.vn"
        body = soon.get_payload(decode=True).decode(soon.get_content_charset() or "utf-8")
        assert "còn 14 ngày" in body and "14 days left" in body
        assert f"https://{edge.mail.hostname}/" in body

        assert look(host) == []  # once per password

        make_older(host, MAX_DAYS + 0.01)
        assert look(host) == [[USER, "reached"]]
        got = reminders(edge, before + 2)
        assert len(got) == before + 2
        assert "quá hạn" in subject(got[-1]) and "past its maximum age" in subject(got[-1])
    finally:
        make_older(host, -1)
