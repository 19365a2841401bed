"""SMTP as an outside client sees it, read-only: banner, EHLO on 25 and 587, VRFY, HELO,
relay, unknown and system recipients, the size limit. No login, no message sent."""

from __future__ import annotations

import socket

import pytest

from tests.helpers.mailclient import OUTSIDE, SMTP, rcpts_from_outside, submission

# Postfix answers on mail_mx hosts (tests/audit/conftest.py).
pytestmark = pytest.mark.mail_groups("mail_mx")


def _greeting(sock) -> list[str]:
    """The whole 220 greeting: postscreen sends a first "220-" line to a new client
    and the real server the final "220 " line after the greet wait."""
    data = b""
    with sock.makefile("rb") as reader:
        while True:
            line = reader.readline()
            data += line
            if not line or line[3:4] == b" ":
                return data.decode().splitlines()


@pytest.mark.control("SMTP-08")
def test_banner_names_host_without_software(mail):
    with socket.create_connection((mail.target.address, 25), timeout=20) as sock:
        lines = _greeting(sock)
    assert lines and lines[-1].startswith(f"220 {mail.target.hostname} ESMTP"), lines
    for line in lines:
        assert line.startswith(f"220-{mail.target.hostname} ESMTP") or line.startswith(f"220 {mail.target.hostname} ESMTP")
        assert "postfix" not in line.lower() and "debian" not in line.lower()


@pytest.mark.control("SMTP-03")
def test_ehlo_on_25_offers_starttls_and_size_but_never_auth(mail):
    with SMTP(mail.target, 25) as client:
        code, _ = client.ehlo()
        assert code == 250
        assert client.has_extn("starttls")
        assert int(client.esmtp_features["size"]) == 52428800
        assert not client.has_extn("auth")
        assert not client.has_extn("vrfy")
        client.starttls()
        client.ehlo()
        assert not client.has_extn("auth"), "AUTH must never be offered on port 25"
        code, reply = client.docmd("AUTH", "PLAIN AGxvY252AHg=")
        assert code == 503, reply


@pytest.mark.control("SMTP-08")
def test_vrfy_is_disabled(mail):
    with SMTP(mail.target, 25) as client:
        client.ehlo()
        code, _ = client.docmd("VRFY", "locnv@gialai.gov.vn")
        assert code == 502


@pytest.mark.control("SMTP-08")
def test_helo_is_required(mail):
    with SMTP(mail.target, 25) as client:
        code, reply = client.docmd("MAIL", f"FROM:<{OUTSIDE}>")
        assert code == 503, reply


@pytest.mark.control("SMTP-02")
def test_no_open_relay_on_25(mail, evidence):
    [(_, code, reply)] = rcpts_from_outside(mail.target, evidence, ["victim@elsewhere.example"])
    assert code == 554 and b"Relay access denied" in reply, reply


@pytest.mark.control("SMTP-08")
def test_unknown_local_recipient_is_refused(mail, evidence):
    [(_, code, reply)] = rcpts_from_outside(mail.target, evidence, [f"khongtontai@{mail.domains[0]}"])
    assert code == 550, reply


@pytest.mark.control("SMTP-14")
def test_address_literals_localhost_and_system_users_are_refused_from_outside(mail, evidence):
    # user@[MX-IP] and user@localhost are the host's own domain: they would probe system logins
    # (root, the Ansible user, daemons) and fill /var/mail
    literal = f"[{mail.target.address}]"
    probes = [f"root@{literal}", f"nobody@{literal}", f"www-data@{literal}", f"postmaster@{literal}",
              "root@localhost", "nobody@localhost", f"nobody@[IPv6:::1]"]
    for address, code, reply in rcpts_from_outside(mail.target, evidence, probes):
        assert 500 <= code < 600, (address, code, reply)
    spool = mail.host.run("find /var/mail -type f -size +0 | head -5")
    assert spool.stdout.strip() == "", spool.stdout


@pytest.mark.control("SMTP-03")
def test_submission_offers_auth_only_after_starttls(mail):
    with SMTP(mail.target, 587) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth"), "AUTH offered before STARTTLS on 587"
        code, reply = client.docmd("AUTH", "PLAIN AGxvY252AHg=")
        assert code in (503, 530), reply
        code, reply = client.docmd("MAIL", "FROM:<locnv@gialai.gov.vn>")
        assert code == 530, reply  # STARTTLS required first
        client.starttls()
        client.ehlo()
        assert "PLAIN" in client.esmtp_features.get("auth", "").upper()


@pytest.mark.control("SMTP-04")
def test_submission_without_auth_cannot_send(mail):
    with submission(mail.target) as client:
        client.mail("locnv@gialai.gov.vn")
        code, reply = client.rcpt("hoatt@gialai.gov.vn")
        assert code == 554 or code == 530, reply


@pytest.mark.control("SMTP-10")
def test_message_over_size_limit_is_refused(mail):
    with SMTP(mail.target, 25) as client:
        client.ehlo()
        code, reply = client.docmd("MAIL", f"FROM:<{OUTSIDE}> SIZE=60000000")
        assert code == 552, reply
