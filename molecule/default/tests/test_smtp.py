"""SMTP as an outside client sees it: inbound delivery, submission, relay, spoofing.

The read-only checks (banner, EHLO, VRFY, relay, recipients, size: tests/audit/test_smtp.py,
which playbooks/audit.yml runs against deployed servers) are this module's tests too.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import smtplib
import time

import pytest

from tests.audit.test_smtp import (  # noqa: F401  (collected here: the read-only checks on this scenario's hosts)
    test_address_literals_localhost_and_system_users_are_refused_from_outside, test_banner_names_host_without_software,
    test_ehlo_on_25_offers_starttls_and_size_but_never_auth, test_helo_is_required,
    test_message_over_size_limit_is_refused, test_no_open_relay_on_25, test_submission_offers_auth_only_after_starttls,
    test_submission_without_auth_cannot_send, test_unknown_local_recipient_is_refused, test_vrfy_is_disabled)
from tests.helpers.lab import wait_for_path
from tests.helpers.mailclient import (OUTSIDE, SMTP, SMTPS, imap_wait_for, make_message, rcpts_from_outside,
                                      smtp_send, submission)


@pytest.mark.control("SMTP-01")
def test_inbound_mail_is_delivered_to_maildir_and_readable_over_imaps(mail):
    rcpt = "locnv@gialai.gov.vn"
    msg = make_message(OUTSIDE, [rcpt], "Công văn số 123/UBND — thử nghiệm")
    refused = smtp_send(mail.target, msg, port=25)
    assert refused == {}
    got = imap_wait_for(mail.target, rcpt, mail.lab.password(rcpt), msg["Message-ID"])
    assert len(got) == 1
    assert b"Received: from client.test.example" in got[0]
    # and it sits in that user's Maildir, nowhere else
    where = mail.host.run(
        f"find /var/vmail -type f \\( -path '*/new/*' -o -path '*/cur/*' \\) "
        f"-exec grep -l -F '{msg['Message-ID']}' {{}} +"
    )
    assert where.rc == 0, where.stderr
    files = where.stdout.split()
    assert len(files) == 1, files
    assert files[0].startswith("/var/vmail/gialai.gov.vn/locnv/Maildir/new/") or files[0].startswith(
        "/var/vmail/gialai.gov.vn/locnv/Maildir/cur/"
    ), files  # INBOX is the Maildir root on both Dovecot 2.3 and 2.4


@pytest.mark.control("SMTP-15")
def test_a_bare_lf_smuggled_second_message_is_not_accepted(mail):
    # SMTP smuggling: <LF>.<CR><LF> must not end DATA, so the commands after it stay message content
    tag = f"{mail.name}-{time.time_ns()}"
    outer, smuggled = f"<outer-{tag}@partner.example>", f"<smuggled-{tag}@partner.example>"
    payload = (f"From: {OUTSIDE}\r\nTo: locnv@gialai.gov.vn\r\nSubject: outer\r\nMessage-ID: {outer}\r\n\r\n"
               "first\r\n\n.\r\n"
               "MAIL FROM:<chutich@partner2.example>\r\nRCPT TO:<locnv@gialai.gov.vn>\r\nDATA\r\n"
               f"From: chutich@partner2.example\r\nSubject: smuggled\r\nMessage-ID: {smuggled}\r\n\r\n"
               "smuggled body\r\n.\r\n")
    with SMTP(mail.target, 25) as client:
        client.ehlo("partner.example")
        assert client.mail(OUTSIDE)[0] == 250
        assert client.rcpt("locnv@gialai.gov.vn")[0] == 250
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(payload.encode())
        code, reply = client.getreply()
        assert code == 250, reply
        # exactly one reply came for all of it: the next one answers our NOOP, not a smuggled MAIL FROM
        client.putcmd("noop")
        code, reply = client.getreply()
        assert (code, reply[:5]) == (250, b"2.0.0"), (code, reply)
    user = "locnv@gialai.gov.vn"
    got = imap_wait_for(mail.target, user, mail.lab.password(user), outer)
    assert len(got) == 1 and b"MAIL FROM:<chutich@partner2.example>" in got[0]
    assert imap_wait_for(mail.target, user, mail.lab.password(user), smuggled, timeout=0) == []


@pytest.mark.control("SMTP-07")
def test_unauthenticated_use_of_a_local_sender_on_25_is_refused(mail, evidence):
    with SMTP(mail.target, 25) as client:
        client.ehlo()
        client.mail("locnv@gialai.gov.vn")
        code, reply = client.rcpt("hoatt@gialai.gov.vn")
        assert code == 553 and b"not owned" in reply, reply
        evidence(f"MAIL FROM locnv@ on 25: {code} {reply.decode()}")


@pytest.mark.control("SMTP-04")
def test_submission_wrong_password_is_refused(mail):
    with submission(mail.target) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as exc:
            client.login("locnv@gialai.gov.vn", "sai-mat-khau")
        assert exc.value.smtp_code == 535


@pytest.mark.control("SMTP-05")
@pytest.mark.parametrize("port,implicit", [(587, False), (465, True)])
def test_authenticated_user_sends_to_local_and_outside(mail, port, implicit):
    user, rcpt = "locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"
    msg = make_message(user, [rcpt, "partner@elsewhere.example"], f"Submission {port}")
    refused = smtp_send(mail.target, msg, port=port, starttls=not implicit, implicit_tls=implicit,
                        login=(user, mail.lab.password(user)))
    assert refused == {}  # the outside recipient is accepted for relay (queued: no Internet here)
    got = imap_wait_for(mail.target, rcpt, mail.lab.password(rcpt), msg["Message-ID"])
    assert len(got) == 1
    mail.host.run("postsuper -d ALL deferred")  # drop what cannot leave the lab


@contextlib.contextmanager
def _logged_in(mail, port: int, user: str):
    """An SMTP session on 587 (STARTTLS) or 465 (implicit TLS), logged in as user."""
    cls = SMTPS if port == 465 else SMTP
    with cls(mail.target, port) as client:
        client.ehlo()
        if port == 587:
            client.starttls()
            client.ehlo()
        client.login(user, mail.lab.password(user))
        yield client


@pytest.mark.control("SMTP-06")
@pytest.mark.parametrize("port", [587, 465])
def test_sending_as_another_users_address_is_refused(mail, port):
    with _logged_in(mail, port, "locnv@gialai.gov.vn") as client:
        client.mail("hoatt@gialai.gov.vn")
        code, reply = client.rcpt("vanphong@gialai.gov.vn")
        assert code == 553 and b"not owned by user" in reply, reply


@pytest.mark.control("SMTP-06")
@pytest.mark.parametrize("unit", ["hanhchinh@gialai.gov.vn", "vanphong@gialai.gov.vn"])
def test_granted_sender_may_send_as_unit_address_others_may_not(mail, unit):
    # hanhchinh@ is the unit's alias, vanphong@ the unit mailbox itself (postfix_sender_grants)
    granted, other = "hoatt@gialai.gov.vn", "locnv@gialai.gov.vn"
    for user, expected in ((granted, 250), (other, 553)):
        with submission(mail.target) as client:
            client.login(user, mail.lab.password(user))
            client.mail(unit)
            code, reply = client.rcpt("vanphong@gialai.gov.vn")
            assert code == expected, (user, reply)


@pytest.mark.control("SMTP-09")
@pytest.mark.control("SMTP-13")
def test_a_logged_in_user_posts_to_an_internal_list_and_it_reaches_every_member(mail):
    # vanphong@ is no member of lanhdao@ (internal: any logged-in user may post)
    user = "vanphong@gialai.gov.vn"
    msg = make_message(user, ["lanhdao@gialai.gov.vn"], "Gửi lãnh đạo")
    assert smtp_send(mail.target, msg, port=587, starttls=True, login=(user, mail.lab.password(user))) == {}
    for member in ("locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"):
        assert len(imap_wait_for(mail.target, member, mail.lab.password(member), msg["Message-ID"])) == 1


@pytest.mark.control("SMTP-13")
def test_an_outside_post_to_a_list_is_refused_in_every_spelling(mail, evidence):
    # internal, senders-only and members-only lists; case and +extension spellings
    closed = ["lanhdao@gialai.gov.vn", "LanhDao@GiaLai.Gov.Vn", "lanhdao+urgent@gialai.gov.vn",
              "toantinh@gialai.gov.vn", "vp@gialai.gov.vn"]
    for address, code, reply in rcpts_from_outside(mail.target, evidence, closed):
        assert code == 550 and reply.startswith(b"5.7.1"), (address, code, reply)


@pytest.mark.control("SMTP-13")
def test_an_outside_post_to_a_public_unit_alias_is_delivered(mail):
    msg = make_message(OUTSIDE, ["hanhchinh@gialai.gov.vn"], "Công dân gửi văn phòng")
    assert smtp_send(mail.target, msg, port=25) == {}
    unit = "vanphong@gialai.gov.vn"
    assert len(imap_wait_for(mail.target, unit, mail.lab.password(unit), msg["Message-ID"])) == 1


@pytest.mark.control("SMTP-13")
@pytest.mark.parametrize("port", [587, 465])
@pytest.mark.parametrize("user,envelope,rcpt,allowed", [
    ("hoatt@gialai.gov.vn", None, "vp@gialai.gov.vn", True),                                  # a member
    ("vanphong@gialai.gov.vn", None, "vp@gialai.gov.vn", False),                              # not a member
    ("vanphong@gialai.gov.vn", None, "toantinh@gialai.gov.vn", True),                         # the named sender
    ("hoatt@gialai.gov.vn", "vanphong@gialai.gov.vn", "toantinh@gialai.gov.vn", True),        # granted its address
    ("locnv@gialai.gov.vn", None, "TOANTINH+tin@gialai.gov.vn", False),                       # anyone else
])
def test_members_and_senders_lists_take_posts_only_from_whom_they_name(mail, port, user, envelope, rcpt, allowed):
    with _logged_in(mail, port, user) as client:
        assert client.mail(envelope or user)[0] == 250
        code, reply = client.rcpt(rcpt)
        if allowed:
            assert code == 250, (user, rcpt, reply)
        else:
            assert code == 550 and reply.startswith(b"5.7.1") and b"may not post to this list" in reply, \
                (user, rcpt, code, reply)
        client.rset()


@pytest.mark.control("SMTP-09")
@pytest.mark.control("SMTP-16")
def test_the_hosts_own_mail_to_root_reaches_the_postmaster(mail):
    # cron, unattended-upgrades and the backup failure notice write to "root" with sendmail (as root,
    # postfix_authorized_submit_users); local sendmail mail is ORIGINATING, so our domain's From: is signed
    pm = "postmaster@gialai.gov.vn"
    mid = f"<root-{mail.name}-{int(time.time())}@{mail.lab.hostname}>"
    sent = mail.host.run(f"printf 'From: {pm}\\nSubject: cron output\\nMessage-ID: {mid}\\n\\nbody\\n' "
                         "| /usr/sbin/sendmail -oi root")
    assert sent.rc == 0, sent.stderr
    got = imap_wait_for(mail.target, pm, mail.lab.password(pm), mid)
    assert len(got) == 1
    assert "d=gialai.gov.vn;" in _dkim_signatures(got[0]), got[0][:2000]


def _dkim_signatures(raw: bytes) -> str:
    """The message's DKIM-Signature headers, unfolded, one a line."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace").replace("\r\n\t", " ").replace("\r\n ", " ")
    return "\n".join(line for line in head.split("\r\n") if line.lower().startswith("dkim-signature:"))


# --- Local submission (SMTP-16): only authorized accounts use sendmail, the loopback is outside ------

# Run on the host as an unprivileged account: one SMTP session to 127.0.0.1:25 that tries to send as a
# leader to the outside (our domain as envelope sender, then any sender) and then, with a foreign envelope
# sender, a message to a local mailbox whose From: is the leader's. Prints the replies as JSON.
LOOPBACK_SESSION = r"""
import json, smtplib, sys
leader, outside, local, mid = sys.argv[1:5]
out = {}
with smtplib.SMTP("127.0.0.1", 25, local_hostname="client.test.example", timeout=60) as c:
    c.ehlo()
    for name, sender in (("leader", leader), ("foreign", "sender@partner.example")):
        c.mail(sender)
        code, reply = c.rcpt(outside)
        out[f"relay_as_{name}"] = [code, reply.decode()]
        c.rset()
    c.mail("sender@partner.example")
    out["local_rcpt"] = c.rcpt(local)[0]
    body = f"From: Lanh dao <{leader}>\r\nTo: {local}\r\nSubject: loopback\r\nMessage-ID: {mid}\r\n\r\nbody\r\n"
    out["local_data"] = c.data(body.encode())[0]
print(json.dumps(out))
"""


@pytest.mark.control("SMTP-16")
def test_an_unprivileged_local_account_cannot_use_sendmail(mail, evidence):
    msg = "From: hoatt@gialai.gov.vn\nSubject: forged by nobody\n\nbody\n"
    sent = mail.host.run(f"printf '{msg}' | runuser -u nobody -- /usr/sbin/sendmail -oi locnv@gialai.gov.vn")
    assert sent.rc != 0, "nobody's sendmail was accepted"
    assert "nobody" in sent.stderr and "is not allowed to submit mail" in sent.stderr, sent.stderr
    evidence(f"runuser -u nobody -- sendmail: rc {sent.rc}: {sent.stderr.strip()}")


@pytest.mark.control("SMTP-16")
def test_a_local_account_on_the_loopback_neither_relays_nor_gets_our_signature(mail, evidence):
    leader, local = "hoatt@gialai.gov.vn", "locnv@gialai.gov.vn"
    mid = f"<loopback-{mail.name}-{time.time_ns()}@partner.example>"
    run = mail.host.run("runuser -u nobody -- python3 -c " + shlex.quote(LOOPBACK_SESSION) + " "
                        + " ".join(shlex.quote(a) for a in (leader, "victim@elsewhere.example", local, mid)))
    assert run.rc == 0, run.stdout + run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    evidence(f"nobody on 127.0.0.1:25: {out}")
    assert out["relay_as_leader"][0] == 553 and "not owned" in out["relay_as_leader"][1], out
    assert out["relay_as_foreign"][0] == 554 and "Relay access denied" in out["relay_as_foreign"][1], out
    # like any outside client it may write to a local mailbox, but our signature is not put on it
    assert (out["local_rcpt"], out["local_data"]) == (250, 250), out
    got = imap_wait_for(mail.target, local, mail.lab.password(local), mid)
    assert len(got) == 1
    assert "d=gialai.gov.vn" not in _dkim_signatures(got[0]), got[0][:2000]


@pytest.mark.control("SMTP-09")
def test_postmaster_and_abuse_reach_the_postmaster_mailbox(mail):
    msg = make_message(OUTSIDE, ["abuse@gialai.gov.vn"], "abuse report")
    assert smtp_send(mail.target, msg, port=25) == {}
    pm = "postmaster@gialai.gov.vn"
    assert len(imap_wait_for(mail.target, pm, mail.lab.password(pm), msg["Message-ID"])) == 1


# --- The From: header on submission (postfix-fromguard, SMTP-11/12) ---------------

LOC, HOA, UNIT = "locnv@gialai.gov.vn", "hoatt@gialai.gov.vn", "vanphong@gialai.gov.vn"
GUARD_SOCKET = "/var/spool/postfix/fromguard/fromguard.sock"


def _submit(mail, port, login, header_from, *, envelope=None, subject="From check"):
    """Submit as `login` with the given From: header; the message (sent) or the SMTP error."""
    msg = make_message(header_from, [HOA], subject)
    try:
        smtp_send(mail.target, msg, port=port, starttls=port == 587, implicit_tls=port == 465,
                  login=(login, mail.lab.password(login)), sender=envelope or login, recipients=[HOA])
    except smtplib.SMTPResponseException as exc:
        return exc
    return msg


@pytest.mark.control("SMTP-11")
@pytest.mark.parametrize("port", [587, 465])
@pytest.mark.parametrize("header_from,reason", [
    ("Chu tich UBND <chutich@gialai.gov.vn>", b"is not an address locnv@gialai.gov.vn may send as"),
    (f"<{LOC}>, <chutich@gialai.gov.vn>", b"exactly one address"),
    (f'"chutich@gialai.gov.vn" <{LOC}>', b"shows another address"),
])
def test_a_forged_from_header_is_refused_on_submission(mail, port, header_from, reason):
    # the envelope sender is the login's own (the envelope check passes): only the header lies
    got = _submit(mail, port, LOC, header_from)
    assert isinstance(got, smtplib.SMTPDataError), f"accepted: From: {header_from}"
    assert got.smtp_code == 550 and b"5.7.1" in got.smtp_error and reason in got.smtp_error, got


@pytest.mark.control("SMTP-11")
@pytest.mark.parametrize("port", [587, 465])
def test_own_address_with_a_vietnamese_display_name_is_delivered(mail, port):
    # EmailMessage writes the name as an RFC 2047 encoded word (=?utf-8?...?=)
    msg = _submit(mail, port, LOC, f"Nguyễn Văn Lộc <{LOC}>")
    assert not isinstance(msg, Exception), msg
    assert len(imap_wait_for(mail.target, HOA, mail.lab.password(HOA), msg["Message-ID"])) == 1


@pytest.mark.control("SMTP-11")
def test_a_granted_unit_mailbox_in_from_is_delivered_an_ungranted_one_refused(mail):
    msg = _submit(mail, 587, HOA, f"Văn phòng UBND tỉnh <{UNIT}>", envelope=UNIT)
    assert not isinstance(msg, Exception), msg
    assert len(imap_wait_for(mail.target, HOA, mail.lab.password(HOA), msg["Message-ID"])) == 1
    # locnv has no grant: refused in the header even with his own envelope sender
    got = _submit(mail, 587, LOC, f"Văn phòng UBND tỉnh <{UNIT}>")
    assert isinstance(got, smtplib.SMTPDataError) and got.smtp_code == 550, got


@pytest.mark.control("SMTP-11")
@pytest.mark.parametrize("port", [587, 465])
def test_a_null_envelope_sender_is_refused_after_login(mail, port):
    with _logged_in(mail, port, LOC) as client:
        code, reply = client.mail("")
        assert code == 550 and b"null envelope sender" in reply, (code, reply)


@pytest.mark.exclusive
@pytest.mark.control("SMTP-12")
def test_submission_waits_while_the_from_check_is_down(mail):
    assert mail.host.run("systemctl stop postfix-fromguard").rc == 0
    try:
        got = _submit(mail, 587, LOC, f"<{LOC}>", subject="From check down")
        assert isinstance(got, smtplib.SMTPResponseException), "accepted with the From check down"
        assert 400 <= got.smtp_code < 500, got
    finally:
        assert mail.host.run("systemctl start postfix-fromguard").rc == 0
        wait_for_path(mail.host, GUARD_SOCKET)
    msg = _submit(mail, 587, LOC, f"<{LOC}>", subject="From check back")
    assert not isinstance(msg, Exception), msg
    assert len(imap_wait_for(mail.target, HOA, mail.lab.password(HOA), msg["Message-ID"])) == 1


# --- The rate limit policy service (SMTP-17): only Postfix reaches it; it still limits; down -> 4xx ----

RATELIMIT_SOCKET = "/var/spool/postfix/ratelimit/ratelimit.sock"

# Run on the host as some account: ask the policy service one (uncounted: no login) question.
POLICY_PROBE = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
try:
    s.connect(sys.argv[1])
except OSError as exc:
    print("refused", exc.errno, exc.strerror)
    sys.exit(0)
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nrecipient=locnv@gialai.gov.vn\n\n")
print("answered", s.recv(200).decode().strip())
"""


@pytest.mark.exclusive
@pytest.mark.control("SMTP-17")
def test_only_postfix_can_reach_the_rate_limit_service(mail, evidence):
    host = mail.host
    pid = host.run("systemctl show -p MainPID --value postfix-ratelimit").stdout.strip()
    assert pid not in ("", "0")
    listening = host.run("ss -Hltnup").stdout
    assert f"pid={pid}," not in listening, listening  # no TCP or UDP port at all
    for user, expected in (("nobody", "refused 13 "), ("postfix", "answered action=DUNNO")):
        probe = host.run(f"runuser -u {user} -- python3 -c {shlex.quote(POLICY_PROBE)} {RATELIMIT_SOCKET}")
        assert probe.rc == 0 and probe.stdout.startswith(expected), (user, probe.stdout, probe.stderr)
        evidence(f"{user} -> {RATELIMIT_SOCKET}: {probe.stdout.strip()}")


def _fresh_limiter(host) -> None:
    """A restarted policy service (a fresh window), answering on its socket."""
    assert host.run("systemctl restart postfix-ratelimit").rc == 0
    wait_for_path(host, RATELIMIT_SOCKET)


@pytest.mark.exclusive
@pytest.mark.control("SMTP-17")
def test_submission_is_still_rate_limited_over_the_socket_and_waits_while_the_limiter_is_down(mail, evidence):
    host, user = mail.host, UNIT
    limits = json.loads(host.file("/etc/postfix/ratelimit.json").content_string)
    budget = limits["classes"][limits.get("accounts", {}).get(user, "default")]["recipients"]
    assert host.run("systemctl stop postfix-ratelimit").rc == 0
    try:
        with _logged_in(mail, 587, user) as client:
            assert client.mail(user)[0] == 250
            code, text = client.rcpt(HOA)
        assert 400 <= code < 500, (code, text)
        evidence(f"postfix-ratelimit stopped, RCPT on 587: {code} {text.decode(errors='replace')}")
    finally:
        _fresh_limiter(host)
    # one transaction naming one recipient more than the budget (pipelined: one write, then the replies)
    rcpts = [f"locnv+{n}@gialai.gov.vn" for n in range(budget + 1)]
    try:
        with _logged_in(mail, 587, user) as client:
            client.send(f"MAIL FROM:<{user}>\r\n".encode() + b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in rcpts))
            assert client.getreply()[0] == 250
            replies = [client.getreply() for _r in rcpts]
            client.rset()
    finally:
        _fresh_limiter(host)  # the refused transaction's recipients stay in flight: forgive them
    assert [code for code, _text in replies[:budget]] == [250] * budget, replies[:3]
    code, text = replies[budget]
    assert code == 450 and text.startswith(b"4.7.1") and f"rate limit for {user}".encode() in text, (code, text)
    evidence(f"recipient {budget + 1} of {user}: {code} {text.decode()}")
    msg = _submit(mail, 587, user, f"<{user}>", subject="rate limiter back")
    assert not isinstance(msg, Exception), msg
