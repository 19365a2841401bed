"""tests/helpers/browser.py, the real browser of the webmail tests, against two local HTTPS
servers on 127.0.0.1: one whose certificate the given CA signed, one signed by another CA.

The helper must verify TLS the way a user's browser does (the page of the trusted CA
loads under its name, the other shows Chromium's certificate interstitial) and reach
only the names it maps (an unmapped name does not resolve). A helper that ignored
certificate errors, or leaked DNS, fails here before any webmail test relies on it.
"""

from __future__ import annotations

import contextlib
import datetime
import http.server
import pathlib
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from selenium.common.exceptions import WebDriverException

from tests.helpers import browser

# No skip when Chromium is missing: scripts/setup.sh installs chromium and chromium-driver
# for `make unit`, so a missing browser is a broken set-up, and this test says so.

TRUSTED_NAME = "mail.trusted.test"
OTHER_NAME = "mail.other.test"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(tmp: pathlib.Path, label: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(label)).issuer_name(_name(label))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp / f"{label}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _leaf(tmp: pathlib.Path, ca_key, ca_cert, name: str) -> tuple[pathlib.Path, pathlib.Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    crt, pem = tmp / f"{name}.crt", tmp / f"{name}.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        body = f"<html><head><title>ok</title></head><body><p id='who'>Xin chào {self.server.label}</p></body></html>"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _https(crt: pathlib.Path, key: pathlib.Path, label: str):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.label = label
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_resolver_rules_map_the_given_names_and_nothing_else():
    rules = browser.resolver_rules({"mail.gialai.gov.vn": "10.89.0.5"})
    assert rules == "MAP mail.gialai.gov.vn 10.89.0.5, MAP * ~NOTFOUND"


def test_the_browser_verifies_tls_against_the_given_ca_only(tmp_path):
    ca_key, ca_cert, ca_file = _ca(tmp_path, "trusted-ca")
    other_key, other_cert, _other_file = _ca(tmp_path, "other-ca")
    trusted = _leaf(tmp_path, ca_key, ca_cert, TRUSTED_NAME)
    untrusted = _leaf(tmp_path, other_key, other_cert, OTHER_NAME)
    with _https(*trusted, "trusted") as port_ok, _https(*untrusted, "other") as port_bad, \
            browser.chromium({TRUSTED_NAME: "127.0.0.1", OTHER_NAME: "127.0.0.1"}, str(ca_file)) as driver:
        driver.get(f"https://{TRUSTED_NAME}:{port_ok}/")
        assert browser.visible(driver, "#who").text == "Xin chào trusted"
        assert not browser.tls_error_shown(driver)

        driver.get(f"https://{OTHER_NAME}:{port_bad}/")
        browser.until(driver, lambda d: browser.tls_error_shown(d), "the certificate interstitial")
        assert "Xin chào" not in browser.page_text(driver)

        # the same server under a name the rules do not map (even localhost): never resolved
        with pytest.raises(WebDriverException, match="ERR_NAME_NOT_RESOLVED"):
            driver.get(f"https://localhost:{port_ok}/")
