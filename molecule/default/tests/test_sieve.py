"""Sieve (Dovecot Pigeonhole) as a user and an attacker see it, through ManageSieve on 4190:
AUTHENTICATE only after STARTTLS (the read-only check of tests/audit/test_sieve.py is this
module's test too), a user logging in as Roundcube does (the full address, PLAIN, the
certificate verified), a wrong password counted by fail2ban, an out-of-office reply sent
once per sender, never to lists, bulk or auto-generated mail or the null sender, and no
script that forwards mail out (notify refused at upload, redirect refused when it runs).

The out-of-office script answers only this module's messages (a token in the subject):
other tests write to the same mailbox meanwhile, and must get no reply.
"""

from __future__ import annotations

import re
import shlex
import uuid

import pytest

from tests.audit.test_sieve import test_managesieve_refuses_authentication_before_starttls  # noqa: F401
from tests.helpers.lab import journal_lines, journal_mark
from tests.helpers.mailclient import SMTP, imap_wait_for, make_message, smtp_send
from tests.helpers.managesieve import ManageSieve, login, one_vacation_reply, vacation_replies

AWAY = "hoatt@gialai.gov.vn"  # on leave: her out-of-office script answers
COLLEAGUE = "locnv@gialai.gov.vn"  # writes to her twice
TOKEN = uuid.uuid4().hex[:12]  # this run's: the script's :handle and the subjects
SCRIPT = f"vang-mat-{TOKEN}"
REPLY_SUBJECT = f"Vắng mặt / Out of office {TOKEN}"
VACATION = f"""require ["vacation"];
if header :contains "subject" "{TOKEN}" {{
  vacation :days 7 :handle "{TOKEN}" :subject "{REPLY_SUBJECT}"
    "Tôi đi công tác đến thứ Hai. / I am away until Monday.";
}}
"""


@pytest.fixture(scope="module")
def away(mail):
    """AWAY's out-of-office script, uploaded and activated over ManageSieve; removed afterwards."""
    with login(mail.target, AWAY, mail.lab.password(AWAY)) as sieve:
        put = sieve.putscript(SCRIPT, VACATION)
        assert put.ok, f"PUTSCRIPT {SCRIPT}: {put}"
        active = sieve.setactive(SCRIPT)
        assert active.ok, f"SETACTIVE {SCRIPT}: {active}"
        assert sieve.listscripts().get(SCRIPT) is True
    yield SCRIPT
    with login(mail.target, AWAY, mail.lab.password(AWAY)) as sieve:
        sieve.setactive("")
        sieve.deletescript(SCRIPT)


def _sieve_lines(mail, since: str, message_id: str) -> list[str]:
    """The log lines about `message_id`, once one names the vacation action: LMTP logs Sieve's decision
    when it delivers the message."""
    return journal_lines(mail.host, since, message_id, "vacation")


@pytest.mark.control("SIEVE-01")
def test_a_user_manages_scripts_as_roundcube_does(mail, away, evidence):
    """tls://mail.<domain>:4190, the full address as login, PLAIN: what Roundcube's managesieve plugin does."""
    with ManageSieve(mail.target) as sieve:
        sieve.starttls()  # the certificate of mail.<domain>, verified with the lab CA
        assert sieve.authenticate(AWAY, mail.lab.password(AWAY)).ok
        scripts = sieve.listscripts()
        check = sieve.checkscript('require ["fileinto"];\nif header :contains "subject" "[Spam]" { fileinto "Junk"; }\n')
        bad = sieve.checkscript('require ["fileinto"];\nfileinto "Junk"\n')  # a missing semicolon
        extensions = sieve.capabilities.get("SIEVE", "").split()
    assert scripts.get(away) is True, scripts
    assert check.ok, check
    assert bad.status == "NO" and "error" in bad.text.lower(), bad
    assert {"fileinto", "vacation"} <= set(extensions) and "enotify" not in extensions, extensions
    evidence(f"{AWAY} after STARTTLS, AUTHENTICATE PLAIN: OK; LISTSCRIPTS {scripts}; CHECKSCRIPT of a filter: "
             f"{check}; of a broken one: {bad}; SIEVE extensions {' '.join(extensions)}")


@pytest.mark.control("SIEVE-05")
def test_a_wrong_managesieve_password_counts_for_fail2ban(mail, evidence):
    """Refused, and the line Dovecot logs for it is one the dovecot jail's filter counts (the
    controller itself is never banned: a bastion), so guessing passwords on 4190 gets banned as on IMAP."""
    since = journal_mark(mail.host)
    with ManageSieve(mail.target) as sieve:
        sieve.starttls()
        wrong = sieve.authenticate(AWAY, "sai-mat-khau-123")
    assert wrong.status == "NO", wrong
    # Dovecot logs the failure when the session ends (LOGOUT above). Only this session's line:
    # the audit run's SIEVE-01 check (another xdist worker) may fail a login on 4190 in the same
    # second, logged with user=<> (refused before STARTTLS, it never reached the auth server).
    read = (f"journalctl -q --no-pager -o short -u dovecot.service --since={shlex.quote(since)} "
            f"| grep -E 'managesieve-login: .*auth failed' | grep -F {shlex.quote(f'user=<{AWAY}>')} | tail -1")
    wait = f'until [ -n "$({read})" ]; do sleep 0.5; done'
    mail.host.run(f"timeout 30 sh -c {shlex.quote(wait)}")
    line = mail.host.run(read).stdout.strip()
    assert line and f"user=<{AWAY}>" in line, line
    judged = mail.host.run(f"fail2ban-regex {shlex.quote(line)} dovecot")
    assert "1 matched" in judged.stdout, judged.stdout[-2000:] + judged.stderr[-1000:]
    evidence(f"a wrong password on 4190: {wrong}; logged as '{line.split(': ', 1)[-1]}', "
             f"which the dovecot jail's filter matches (fail2ban-regex: 1 matched)")


@pytest.mark.control("SIEVE-02")
def test_out_of_office_replies_once_per_sender(mail, away, evidence):
    password = mail.lab.password(COLLEAGUE)
    since = journal_mark(mail.host)
    first = make_message(COLLEAGUE, [AWAY], f"Họp giao ban thứ Hai {TOKEN}")
    assert smtp_send(mail.target, first, port=587, starttls=True, login=(COLLEAGUE, password)) == {}
    lines = _sieve_lines(mail, since, first["Message-ID"])
    assert any(f"sent vacation response to <{COLLEAGUE}>" in line for line in lines), lines
    reply = one_vacation_reply(mail.target, COLLEAGUE, password, TOKEN, subject=REPLY_SUBJECT, away=AWAY,
                               in_reply_to=first["Message-ID"])
    # The same sender again, within the period: Sieve decides not to answer, and no second reply comes.
    second = make_message(COLLEAGUE, [AWAY], f"Nhắc lại: họp giao ban {TOKEN}")
    assert smtp_send(mail.target, second, port=587, starttls=True, login=(COLLEAGUE, password)) == {}
    lines = _sieve_lines(mail, since, second["Message-ID"])
    assert any(f"discarded duplicate vacation response to <{COLLEAGUE}>" in line for line in lines), lines
    assert len(vacation_replies(mail.target, COLLEAGUE, password, TOKEN)) == 1
    evidence(f"two mails {COLLEAGUE} -> {AWAY} (out of office, :days 7): one reply "
             f"'{REPLY_SUBJECT}' (In-Reply-To the first, Auto-Submitted: {reply['Auto-Submitted']}); "
             f"the second: {lines[-1].split(': ', 1)[-1]}")


@pytest.mark.control("SIEVE-03")
def test_no_out_of_office_reply_to_lists_bulk_automatic_mail_or_the_null_sender(mail, away, evidence):
    """Each from an outside sender never answered before (the once-per-sender rule cannot be the reason)."""
    cases = {
        "List-Id": ("list", {"List-Id": "<tin-tuc.partner.example>"}, "mailinglist"),
        "Precedence: bulk": ("bulk", {"Precedence": "bulk"}, "precedence=bulk"),
        "Auto-Submitted": ("auto", {"Auto-Submitted": "auto-generated"}, "auto-submitted"),
        "MAIL FROM:<>": (None, {}, "discarded vacation reply to <>"),
    }
    since = journal_mark(mail.host)
    sent = {}
    with SMTP(mail.target, 25) as client:
        client.ehlo("partner.example")
        for case, (local, headers, _why) in cases.items():
            sender = f"{local}-{TOKEN}@partner.example" if local else ""
            msg = make_message(sender or "MAILER-DAEMON@partner.example", [AWAY], f"{case} {TOKEN}")
            for name, value in headers.items():
                msg[name] = value
            assert client.send_message(msg, from_addr=sender, to_addrs=[AWAY]) == {}
            sent[case] = msg["Message-ID"]
    for case, (_local, _headers, why) in cases.items():
        lines = _sieve_lines(mail, since, sent[case])
        decided = [line for line in lines if "vacation" in line]
        assert decided and all(why in line and "sent vacation response" not in line for line in decided), (case, lines)
        evidence(f"{case}: {decided[-1].split(': ', 1)[-1]}")
    queue = mail.host.run("postqueue -j").stdout
    assert TOKEN not in queue, queue  # no reply waiting to leave for partner.example


@pytest.mark.control("SIEVE-04")
def test_a_script_cannot_forward_mail_out(mail, away, evidence):
    """A stolen password must not set up silent forwarding. notify (enotify) is refused at upload;
    Pigeonhole accepts a redirect to a literal address at upload (2.3 and 2.4 alike) but, with
    sieve_max_redirects 0, refuses it when it runs: the message is kept and nothing leaves."""
    outside = "thu-mat@partner.example"
    name = f"chuyen-tiep-{TOKEN}"
    notify = f'require ["enotify"];\nnotify "mailto:{outside}";\n'
    forward = f'require ["copy"];\nif header :contains "subject" "{TOKEN}" {{ redirect :copy "{outside}"; }}\n'
    user_log = f"/var/vmail/gialai.gov.vn/{AWAY.split('@')[0]}/.dovecot.sieve.log"
    logged = int(mail.host.run(f"stat -c %s {user_log} 2>/dev/null || echo 0").stdout.strip() or 0)
    with login(mail.target, AWAY, mail.lab.password(AWAY)) as sieve:
        refused = (sieve.putscript(name, notify), sieve.checkscript(notify))
        assert [answer.status for answer in refused] == ["NO", "NO"], refused
        assert name not in sieve.listscripts()
        put = sieve.putscript(name, forward)
        assert put.ok and sieve.setactive(name).ok, put
    try:
        since = journal_mark(mail.host)
        msg = make_message("doitac@partner.example", [AWAY], f"Chuyển tiếp {TOKEN}")
        assert smtp_send(mail.target, msg, port=25) == {}
        stored = [line for line in journal_lines(mail.host, since, msg["Message-ID"], "stored mail into mailbox")
                  if "stored mail into mailbox" in line]
        assert stored, f"no delivery of {msg['Message-ID']} logged"
        session = re.search(r"^\S+?(<\d+><[^>]+>)", stored[0]).group(1)  # lmtp(user)<pid><session>
        failed = [line for line in journal_lines(mail.host, since, session, "Execution of script") if "Execution of script" in line]
    finally:
        with login(mail.target, AWAY, mail.lab.password(AWAY)) as sieve:
            sieve.setactive(away)
            sieve.deletescript(name)
    assert failed and "implicit keep was successful" in failed[0], failed
    why = mail.host.run(f"tail -c +{logged + 1} {user_log}").stdout
    assert "local policy prohibits the use of a redirect action" in why, why
    assert imap_wait_for(mail.target, AWAY, mail.lab.password(AWAY), msg["Message-ID"], timeout=30), "not kept"
    postfix = mail.host.run(f"journalctl -q --no-pager -o cat -u postfix@-.service --since={shlex.quote(since)}").stdout
    assert outside not in postfix and outside not in mail.host.run("postqueue -j").stdout, postfix[-2000:]
    evidence(f"notify mailto: PUTSCRIPT {refused[0]}; redirect :copy to {outside}: PUTSCRIPT {put}, then at delivery "
             f"'{failed[0].split(': ', 1)[-1]}', user log: 'local policy prohibits the use of a redirect action'; "
             f"the message is in {AWAY}'s INBOX, nothing for {outside} in Postfix's log or queue")


@pytest.mark.control("SIEVE-02")
def test_the_release_runs_sieve_at_delivery_with_the_limits(mail, evidence):
    """What the configuration says, in each release's syntax (2.4: settings at the top level,
    plugins a list; 2.3: the plugin {} section and $mail_plugins, read where it is written)."""
    names = ["sieve_vacation_min_period", "sieve_vacation_default_period", "sieve_vacation_max_period",
             "sieve_max_redirects"]
    old = mail.release.startswith("12")
    prefix = "plugin/" if old else ""
    plugins = mail.host.run("doveconf -f protocol=lmtp -h mail_plugins").stdout.split()
    values = [mail.host.run(f"doveconf -h {prefix}{name}").stdout.strip() for name in names]
    if old:  # 2.3: $mail_plugins expanded where the lmtp section reads it, after the global quota
        assert "sieve" in plugins and "quota" in plugins, plugins
    else:  # 2.4: the lmtp filter adds sieve to the global list (quota at delivery: test_quota.py, ACC-06)
        assert "sieve" in plugins, plugins
        assert "quota" in mail.host.run("doveconf -h mail_plugins").stdout.split()
    assert values == ["1d", "7d", "30d", "0"], dict(zip(names, values))
    assert mail.host.socket("tcp://0.0.0.0:4190").is_listening
    assert not mail.host.socket("tcp://0.0.0.0:2000").is_listening  # the old ManageSieve port
    evidence(f"Dovecot {mail.host.run('dovecot --version').stdout.split()[0]}: LMTP plugins {plugins}, "
             f"{dict(zip(names, values))}")
