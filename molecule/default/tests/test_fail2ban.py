"""fail2ban: N failed logins from one client address and that address is refused.

The attacker is a client container on the lab network (the controller is an
administrator: never banned). Each test unbans its attacker afterwards, so the
tests do not depend on their order.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.outside import container_network, run_client

MAXRETRY = 3  # fail2ban_maxretry in inventories/lab/group_vars/all/lab.yml
MAIL_PORTS = [25, 587, 993]

ATTACK = """
import imaplib, json, smtplib, socket, ssl, time
address, kind, tries, ports = %(address)r, %(kind)r, %(tries)d, %(ports)r
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
replies = []
for i in range(tries):
    try:
        if kind == "smtp":
            with smtplib.SMTP(address, 587, timeout=20) as c:
                c.ehlo("attacker.example"); c.starttls(context=ctx); c.ehlo("attacker.example")
                try:
                    c.login("vanphong@gialai.gov.vn", "wrong-password-%%d" %% i)
                    replies.append("accepted")
                except smtplib.SMTPException as e:
                    replies.append(str(getattr(e, "smtp_code", e)))
        else:
            c = imaplib.IMAP4_SSL(address, 993, ssl_context=ctx, timeout=20)
            try:
                c.login("vanphong@gialai.gov.vn", "wrong-password-%%d" %% i)
                replies.append("accepted")
            except imaplib.IMAP4.error as e:
                replies.append("NO")
            finally:
                try: c.logout()
                except Exception: pass
    except OSError as e:
        replies.append("error:%%s" %% e)
def state(port):
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect((address, port)); return "open"
    except socket.timeout:
        return "filtered"
    except OSError:
        return "refused"
    finally:
        s.close()
deadline = time.time() + 60
while time.time() < deadline and state(587) == "open":
    time.sleep(1)
me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); me.connect((address, 9)); ip = me.getsockname()[0]
print(json.dumps({"ip": ip, "replies": replies, "after": {p: state(p) for p in ports}}))
"""


def _unban(mail, ip):
    mail.host.run(f"fail2ban-client unban {ip}")


def _attack(mail, kind):
    return run_client(container_network(mail.name), ATTACK % {
        "address": mail.target.address, "kind": kind, "tries": MAXRETRY, "ports": MAIL_PORTS})


def _controller_still_connects(mail):
    import socket

    for port in MAIL_PORTS:
        with socket.create_connection((mail.target.address, port), timeout=5):
            pass


@pytest.mark.control("F2B-01")
def test_jails_read_the_journal_and_ban_with_nftables(mail):
    status = mail.host.run("fail2ban-client status").stdout
    for jail in ("sshd", "postfix-sasl", "dovecot"):
        assert jail in status, status
    conf = mail.host.run("fail2ban-client -d").stdout
    assert "systemd" in conf and "nftables-allports" in conf


@pytest.mark.control("F2B-02")
def test_failed_smtp_auth_bans_the_client_on_every_mail_port(mail):
    result = _attack(mail, "smtp")
    try:
        # 535, or a timeout/454 while Dovecot's auth penalty delays the answer; then refused
        assert "accepted" not in result["replies"] and result["replies"][0] in ("535", "454"), result
        assert set(result["after"].values()) <= {"refused", "filtered"}, result
        banned = mail.host.run("fail2ban-client status postfix-sasl").stdout
        assert result["ip"] in banned, banned
        _controller_still_connects(mail)
    finally:
        _unban(mail, result["ip"])


@pytest.mark.control("F2B-03")
def test_failed_imap_logins_ban_the_client_on_every_mail_port(mail):
    result = _attack(mail, "imap")
    try:
        assert "accepted" not in result["replies"], result
        assert set(result["after"].values()) <= {"refused", "filtered"}, result
        banned = mail.host.run("fail2ban-client status dovecot").stdout
        assert result["ip"] in banned, banned
        _controller_still_connects(mail)
    finally:
        _unban(mail, result["ip"])


@pytest.mark.control("F2B-04")
def test_sshd_jail_sees_failed_logins_and_never_bans_the_administrators(mail):
    from tests.helpers.outside import ssh

    before = int(mail.host.run("wc -l < /var/log/fail2ban.log").stdout.strip() or 0)
    for _ in range(MAXRETRY + 1):
        ssh(mail.target.address, "true", user="intruder")  # no key that would do
    time.sleep(3)
    log = mail.host.run(f"tail -n +{before + 1} /var/log/fail2ban.log").stdout
    assert "[sshd] Ignore" in log, log[-2000:]  # the filter matched; ignoreip kept the controller
    banned = mail.host.run("fail2ban-client status sshd").stdout
    assert "Currently banned:\t0" in banned, banned
