"""The internal CA: name constraints, trust only where needed, expiry warning and renewal.

The lab CA (the scenario inventory's tls-ca directory, passphrase from the lab vault)
signs test certificates on the controller with `openssl x509 -req`, as anyone holding
the CA key could.
"""

from __future__ import annotations

import base64
import datetime
import email
import email.policy
import pathlib
import re
import shlex
import smtplib
import socket
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tests.helpers.lab import TLS_DIR, changed_counts, journal_after, journal_mark, run_site
from tests.helpers.mailclient import SMTP, imap_wait_for
from tests.helpers.tls_ca import openssl, short_lived_certificate, sign_with_lab_ca

# Runs alone (tests/helpers/exclusive.py): serves a short-lived certificate, then renews it.
pytestmark = pytest.mark.exclusive

POSTMASTER = "postmaster@gialai.gov.vn"


def _new_csr(tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    csr = tmp_path / f"{name}.csr"
    made = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                   "-keyout", tmp_path / f"{name}.key", "-subj", f"/CN={name}", "-out", csr)
    assert made.returncode == 0, made.stderr
    return csr


def _served(mail, port: int) -> x509.Certificate:
    """The certificate the host presents on `port` (STARTTLS on 25), verified against the CA and the host name."""
    if port == 25:
        with SMTP(mail.target, 25) as client:
            client.ehlo()
            client.starttls()
            der = client.sock.getpeercert(binary_form=True)
        return x509.load_der_x509_certificate(der)
    with socket.create_connection((mail.target.address, port), timeout=30) as sock:
        with mail.target.tls_context().wrap_socket(sock, server_hostname=mail.target.hostname) as tls:
            der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der)


def _not_after(cert: x509.Certificate) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    return value if value is not None else cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _wait_served(mail, port: int, want, what: str, seconds: int = 90) -> x509.Certificate:
    """Poll (bounded) until the certificate served on `port` satisfies `want`: a reload takes effect a moment later."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            cert = _served(mail, port)
        except (OSError, ssl.SSLError, smtplib.SMTPException) as e:
            cert, err = None, e
        if cert is not None and want(cert):
            return cert
        assert time.monotonic() < deadline, \
            f"port {port}: {what} not served within {seconds} s (last: {cert.serial_number if cert else err})"
        time.sleep(1)


@pytest.mark.control("TLS-04")
def test_the_ca_cannot_vouch_for_a_name_outside_the_served_domains(mail, tmp_path, evidence):
    outside = sign_with_lab_ca(tmp_path, _new_csr(tmp_path, "mail.bank.example"), ["mail.bank.example"], 30)
    inside = sign_with_lab_ca(tmp_path, _new_csr(tmp_path, "webmail.gialai.gov.vn"), ["webmail.gialai.gov.vn"], 30)
    own = tmp_path / "own.crt"
    own.write_bytes(_served(mail, 993).public_bytes(Encoding.PEM))
    refused = openssl("verify", "-purpose", "sslserver", "-CAfile", mail.target.cafile, outside)
    assert refused.returncode != 0, refused.stdout
    assert "permitted subtree violation" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    for cert in (inside, own):
        ok = openssl("verify", "-purpose", "sslserver", "-CAfile", mail.target.cafile, cert)
        assert ok.returncode == 0 and ": OK" in ok.stdout, (cert.name, ok.stdout, ok.stderr)
    evidence("mail.bank.example signed with the CA key: 'permitted subtree violation'; "
             "webmail.gialai.gov.vn and the host's own certificate (993): OK")


@pytest.mark.control("TLS-04")
def test_only_postfix_trusts_the_ca_not_the_system_store(mail, evidence):
    h = mail.lab.hostname
    probe = (f"openssl s_client -connect 127.0.0.1:993 -servername {h} -verify_hostname {h} "
             f"-verify_return_error {{}} </dev/null 2>&1")
    system = mail.host.run(probe.format(""))
    assert system.rc != 0 and "verify error" in system.stdout, system.stdout[-2000:]
    with_ca = mail.host.run(probe.format(f"-CAfile {TLS_DIR}/ca.pem"))
    assert with_ca.rc == 0 and "Verify return code: 0 (ok)" in with_ca.stdout, with_ca.stdout[-2000:]
    ca_body = "".join(mail.host.file(f"{TLS_DIR}/ca.pem").content_string.split("-----")[2].split())
    bundle = "".join(mail.host.file("/etc/ssl/certs/ca-certificates.crt").content_string.split())
    assert ca_body not in bundle, "the internal CA is in the system trust store"
    assert not mail.host.file("/usr/local/share/ca-certificates/mail-ca.crt").exists

    cafile = mail.host.run("postconf -h smtp_tls_CAfile").stdout.strip()
    assert cafile == f"{TLS_DIR}/ca.pem", cafile
    finger = f"posttls-finger -c -l secure {{}} '[127.0.0.1]:587' {shlex.quote(h)} 2>&1"
    verified = mail.host.run(finger.format(f"-F {shlex.quote(cafile)}"))
    assert "Verified TLS connection established" in verified.stdout, verified.stdout[-2000:]
    public = mail.host.run(finger.format("-P /etc/ssl/certs"))
    assert "Verified TLS connection established" not in public.stdout, public.stdout[-2000:]
    assert re.search(r"certificate verification failed|Untrusted TLS connection", public.stdout), public.stdout[-2000:]
    evidence("s_client with the system store: verify error on 993; with ca.pem: ok; CA not in "
             f"ca-certificates.crt; Postfix smtp_tls_CAfile={cafile}: posttls-finger -l secure Verified, "
             "with /etc/ssl/certs only: not verified")


@pytest.mark.control("TLS-05")
def test_a_certificate_near_expiry_is_reported_then_renewed_by_a_converge(mail, tmp_path, evidence):
    host, h = mail.host, mail.lab.hostname
    # A certificate for the host's own key that expires in 10 days, signed by the lab CA, served on every port.
    short_pem = short_lived_certificate(host, TLS_DIR, h, tmp_path, 10)
    short = x509.load_pem_x509_certificate(short_pem.encode())
    b64 = base64.b64encode(short_pem.encode()).decode()
    for name in ("cert.pem", "fullchain.pem"):
        put = host.run(f"echo {b64} | base64 -d > {TLS_DIR}/{name}")
        assert put.rc == 0, put.stderr
    assert host.run("systemctl reload postfix dovecot").rc == 0
    for port in (993, 465):
        _wait_served(mail, port, lambda c: c.serial_number == short.serial_number, "the 10-day certificate")

    mark = journal_mark(host)
    check = host.run("systemctl start tls-cert-expiry.service")
    assert check.rc != 0, "the expiry check passed with a certificate that expires in 10 days"
    log = journal_after(host, mark, "EXPIRING", "Message-ID", unit="tls-cert-expiry.service")
    assert f"EXPIRING: {TLS_DIR}/fullchain.pem" in log, log[-2000:]
    mid = re.search(r"Message-ID (<[^>\s]+>)", log)
    assert mid, log[-2000:]
    got = imap_wait_for(mail.target, POSTMASTER, mail.lab.password(POSTMASTER), mid.group(1), timeout=120)
    assert len(got) == 1, f"no expiry warning {mid.group(1)} in {POSTMASTER}'s mailbox"
    msg = email.message_from_bytes(got[0], policy=email.policy.default)
    body = msg.get_body().get_content()
    assert "certificate expiring" in msg["Subject"] and f"{TLS_DIR}/fullchain.pem" in body, body

    # A converge of the tls role renews it (inside tls_renew_before_days) and the services reload.
    result = run_site(mail.name, {}, "tls")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert changed_counts(result.stdout).get(mail.name, 0) > 0, result.stdout[-3000:]
    month = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30)
    # every TLS service (Dovecot; Postfix's smtpd on 465 and behind postscreen on 25) reloaded
    renewed = {port: _wait_served(mail, port, lambda c: c.serial_number != short.serial_number,
                                  "a renewed certificate") for port in (993, 465, 25)}
    for port, cert in renewed.items():
        assert _not_after(cert) > month, (port, _not_after(cert))
    assert len({cert.serial_number for cert in renewed.values()}) == 1, renewed
    on_disk = x509.load_pem_x509_certificate(host.file(f"{TLS_DIR}/fullchain.pem").content_string.encode())
    assert on_disk.serial_number == renewed[993].serial_number
    assert host.run("systemctl is-failed tls-cert-expiry.service").stdout.strip() != "failed"
    evidence(f"10-day certificate: unit failed, journal EXPIRING {TLS_DIR}/fullchain.pem, mail {mid.group(1)} "
             f"in {POSTMASTER}; site.yml --tags tls: new serial {renewed[993].serial_number:x} on 993, 465 and 25, "
             f"expires {_not_after(renewed[993]):%Y-%m-%d}; check passes again")
