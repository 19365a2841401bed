"""The webmail of a mail_webmail host, read-only (roles/webmail): what any browser sees.

TLS on 443 verified with the host's CA and judged by sslyze, 80 only redirecting,
the security headers and no version on the login page. No login (the audit knows
no account); the logged-in checks, cookies after login, the size limit and the
ban are in molecule/edge/tests/test_webmail.py. Hosts outside mail_webmail skip (in the
audit); the lab proves these checks on the edge webmail host (molecule/edge/tests/test_audit_webmail.py).
"""

from __future__ import annotations

import http.client
import re

import pytest

from tests.helpers.scanners import run_sslyze
from tests.helpers.webmail import Browser


@pytest.fixture
def web(mail):
    if "mail_webmail" not in mail.groups:
        pytest.skip("not a mail_webmail host")
    return Browser(mail.target.address, mail.target.hostname, mail.target.tls_context())


@pytest.mark.control("WEB-01")
def test_webmail_tls_on_443_is_verified_and_mozilla_intermediate(mail, web, evidence, tmp_path):
    assert web.get("/").status == 200
    run = run_sslyze(mail.target, 443, tmp_path / "sslyze-443.json")
    assert run.problems == [], run.stdout[-3000:]
    assert run.compliant and run.returncode == 0, run.stdout[-3000:]
    evidence("443: certificate verified with the host's CA; sslyze Mozilla intermediate compliant")


@pytest.mark.control("WEB-02")
def test_webmail_port_80_only_redirects(mail, web, evidence):
    conn = http.client.HTTPConnection(mail.target.address, 80, timeout=30)
    conn.request("GET", "/?_task=mail", headers={"Host": mail.target.hostname})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status == 301 and resp.getheader("Location") == f"https://{mail.target.hostname}/?_task=mail"
    evidence("80: 301 to https")


@pytest.mark.control("WEB-03", "WEB-04")
def test_webmail_login_page_headers_and_no_version(mail, web, evidence):
    page = web.get("/")
    hsts = re.search(r"max-age=(\d+)", page.header("Strict-Transport-Security") or "")
    assert hsts and int(hsts.group(1)) >= 31536000, page.headers
    csp = page.header("Content-Security-Policy") or ""
    assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp, csp
    assert page.header("X-Frame-Options") == "SAMEORIGIN" and page.header("X-Content-Type-Options") == "nosniff"
    assert page.header("Referrer-Policy") == "same-origin"
    assert page.header("Server") == "nginx" and page.header("X-Powered-By") is None, page.headers
    version = mail.host.run("dpkg-query -W -f '${Version}' roundcube-core").stdout.split("+")[0].split("-")[0]
    assert version and version not in page.body
    assert web.get("/installer/").status == 404
    evidence(f"login page: HSTS, CSP, X-Frame-Options, nosniff, Referrer-Policy; Server: nginx; no {version}; "
             "installer 404")
