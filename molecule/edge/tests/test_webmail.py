"""Webmail (roles/webmail): Roundcube at https://mail.gialai.gov.vn on our edge host.

What a browser and an attacker see: TLS on 443 verified with the lab CA (sslyze's
verdict on 443 is the audit's check, collected in test_audit_webmail.py; testssl.sh's,
BREACH included, is here: it runs in the background from the session's start), 80 only redirecting, the security headers on the login page and on a
logged-in page, no version anywhere, the session cookie's flags, the idle
timeout, the installer gone, the size limit's page, and failed logins banned.
The controller is a bastion (never banned): the ban is proven from a throw-away
client container, last, and undone.
"""

from __future__ import annotations

import re
import ssl
import time

import pytest

from tests.helpers.outside import container_network
from tests.helpers.scanners import incomplete_testssl, record, severe_testssl_findings
from tests.helpers.webmail import Browser, logged_in
from tests.helpers.webmail_clients import client_volume, failed_logins

USER = "hoatt@gialai.gov.vn"   # an active account of the lab data (inventories/lab)
MAXRETRY = 3  # fail2ban_maxretry in inventories/lab/group_vars/all/lab.yml
CONFIG = "/etc/roundcube/config.inc.php"


def _context(edge) -> ssl.SSLContext:
    return edge.mail.target.tls_context()


def _browser(edge) -> Browser:
    return Browser(edge.mail.target.address, edge.mail.hostname, _context(edge))


@pytest.fixture(scope="module")
def session(edge):
    """A browser logged in as USER (its inbox page), and the answers on the way."""
    b = _browser(edge)
    login_page = b.get("/")
    answer = b.login(USER, edge.mail.password(USER))
    assert answer.status == 302, (answer.status, answer.body[:2000])
    inbox = b.get("/?_task=mail&_mbox=INBOX")
    assert inbox.status == 200 and logged_in(inbox.body), inbox.body[:2000]
    return {"browser": b, "login_page": login_page, "login": answer, "inbox": inbox}


def _config(edge, key: str) -> str:
    """The value Roundcube's configuration file on the host gives `key` (as PHP source)."""
    text = edge.mail.host.file(CONFIG).content_string
    m = re.search(rf"^\$config\['{re.escape(key)}'\]\s*=\s*(.*?);\s*$", text, re.M)
    assert m, f"{key} not set in {CONFIG}"
    return m.group(1).strip()


@pytest.mark.control("WEB-01")
def test_https_on_443_verifies_with_the_lab_ca(edge, evidence):
    answer = _browser(edge).get("/")
    assert answer.status == 200
    # a context without the lab CA refuses the certificate (nothing is trusted by accident)
    with pytest.raises(ssl.SSLCertVerificationError):
        Browser(edge.mail.target.address, edge.mail.hostname, ssl.create_default_context()).get("/")
    evidence(f"https://{edge.mail.hostname}/ 200 with the certificate verified against the lab CA")


@pytest.mark.control("WEB-01")
def test_testssl_on_443_no_high_or_critical_findings_breach_included(edge, testssl_443, session, evidence):
    # testssl.sh ran in the background since the session started (conftest.py: testssl_443)
    port, rc, findings = testssl_443.result()
    incomplete = incomplete_testssl(rc, findings if findings is not None else "no JSON", 443, http=True)
    bad, excepted = severe_testssl_findings([(port, rc, findings)])
    breach = [f for f in findings or [] if f.get("id") == "BREACH" and str(f.get("port")) == "443"]
    record(edge.mail, "testssl-443", f"{len(bad)} HIGH/CRITICAL (excepted: {sorted(excepted) or 'none'}; "
                                     f"exit status {rc}; {'complete' if not incomplete else 'INCOMPLETE'}; "
                                     f"BREACH {breach[0].get('severity') if breach else 'missing'})")
    assert incomplete == [], incomplete
    assert bad == [], bad
    # BREACH: testssl.sh asks the login page for gzip/deflate/br; a logged-in page (where the
    # secrets are: the inbox, the CSRF token) is not compressed either.
    assert breach and breach[0]["severity"] == "OK", breach
    inbox = session["browser"].request("GET", "/?_task=mail&_mbox=INBOX",
                                       headers={"Accept-Encoding": "gzip, deflate, compress, br"})
    assert logged_in(inbox.body) and inbox.header("Content-Encoding") is None, inbox.headers
    evidence(f"testssl.sh 3.0.8 on 443 (-p -s -f -S -U, every section present): no HIGH/CRITICAL but the "
             f"lab CA's trust findings {sorted(excepted)}; BREACH: {breach[0]['finding']}; the logged-in inbox "
             "asked for gzip, deflate, compress, br comes back uncompressed")


@pytest.mark.control("WEB-02")
def test_port_80_only_redirects_to_https(edge, evidence):
    import http.client

    for path in ("/", "/?_task=mail&_mbox=INBOX", "/installer/"):
        conn = http.client.HTTPConnection(edge.mail.target.address, 80, timeout=30)
        conn.request("GET", path, headers={"Host": edge.mail.hostname})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status == 301, (path, resp.status)
        assert resp.getheader("Location") == f"https://{edge.mail.hostname}{path}", resp.getheaders()
        assert b"roundcube" not in body.lower()
    evidence("80: 301 to https://<host><same path> for /, the inbox and the installer path")


HEADERS = {
    "x-frame-options": lambda v: v == "SAMEORIGIN",
    "x-content-type-options": lambda v: v == "nosniff",
    "referrer-policy": lambda v: v == "same-origin",
}


def _check_headers(answer, where):
    hsts = answer.header("Strict-Transport-Security") or ""
    m = re.search(r"max-age=(\d+)", hsts)
    assert m and int(m.group(1)) >= 31536000, (where, hsts)
    csp = answer.header("Content-Security-Policy") or ""
    directives = {d.split()[0]: d.split()[1:] for d in (x.strip() for x in csp.split(";")) if d}
    assert directives.get("frame-ancestors") == ["'self'"], (where, csp)
    assert directives.get("default-src") == ["'self'"] and directives.get("object-src") == ["'none'"], (where, csp)
    assert directives.get("form-action") == ["'self'"], (where, csp)
    for name, ok in HEADERS.items():
        assert ok(answer.header(name) or ""), (where, name, answer.header(name))


@pytest.mark.control("WEB-03")
def test_security_headers_on_the_login_page_a_logged_in_page_and_an_error(edge, session, evidence):
    _check_headers(session["login_page"], "login page")
    _check_headers(session["inbox"], "inbox (logged in)")
    _check_headers(_browser(edge).get("/nothing-here"), "404")
    evidence("HSTS >= 1 year, CSP (frame-ancestors 'self'), X-Frame-Options SAMEORIGIN, nosniff, "
             "Referrer-Policy same-origin on the login page, the inbox and a 404")


def _versions(edge) -> list[str]:
    host = edge.mail.host
    roundcube = host.run("dpkg-query -W -f '${Version}' roundcube-core").stdout.split("+")[0].split("-")[0]
    nginx = re.search(r"nginx/(\S+)", host.run("nginx -v").stderr).group(1)
    php = host.run("php -r 'echo PHP_VERSION;'").stdout.strip()
    assert roundcube and nginx and php
    return [roundcube, nginx, php]


@pytest.mark.control("WEB-04")
def test_no_version_in_any_header_or_page(edge, session, evidence):
    versions = _versions(edge)
    answers = {"login page": session["login_page"], "login": session["login"], "inbox": session["inbox"],
               "404": _browser(edge).get("/nothing-here")}
    for where, answer in answers.items():
        assert answer.header("Server") == "nginx", (where, answer.header("Server"))
        assert answer.header("X-Powered-By") is None, (where, answer.headers)
        text = "\n".join(f"{k}: {v}" for k, v in answer.headers) + answer.body
        for version in versions:
            assert version not in text, (where, version)
        m = re.search(r'"rcversion":(\d+)', answer.body)
        assert not m or m.group(1) == "0", (where, m.group(0))
    # the About page (versions of Roundcube and its plugins) is gone, asked by GET and by POST
    b = session["browser"]
    assert b.get("/?_task=settings&_action=about").status == 404
    assert b.request("POST", "/?_task=settings", form={"_action": "about"}).status == 404
    evidence(f"Server: nginx, no X-Powered-By; none of {versions} in headers or pages; About page 404")


@pytest.mark.control("WEB-05")
def test_session_cookies_are_secure_httponly_samesite_strict(edge, session, evidence):
    cookies = session["login_page"].cookies() + session["login"].cookies()
    live = [c for c in cookies if c.split("=", 1)[1].split(";")[0] not in ("", "deleted")]
    assert any(c.startswith("roundcube_sessid=") for c in live), cookies
    assert any(c.startswith("roundcube_sessauth=") for c in live), cookies
    for cookie in live:
        flags = {f.strip().lower() for f in cookie.split(";")[1:]}
        assert "secure" in flags and "httponly" in flags and "samesite=strict" in flags, cookie
    evidence(f"{len(live)} cookies set at login, each Secure; HttpOnly; SameSite=Strict")


@pytest.mark.control("WEB-06")
def test_an_idle_session_ends(edge, evidence):
    minutes = int(_config(edge, "session_lifetime"))
    assert minutes == 30  # webmail_session_lifetime's default
    b = _browser(edge)
    assert b.login(USER, edge.mail.password(USER)).status == 302
    assert logged_in(b.get("/?_task=mail&_mbox=INBOX").body)
    # Age the session past the lifetime in the database (SQLite, or PostgreSQL where the scenario sets
    # webmail_db_type: pgsql): the next request is a login page.
    sid = b.jar["roundcube_sessid"]
    db = "/var/lib/roundcube/db/roundcube.sqlite"
    if edge.mail.host.file(db).exists:
        r = edge.mail.host.run(f"sqlite3 {db} \"UPDATE session SET changed = datetime('now', '-{minutes + 1} minutes') "
                               f"WHERE sess_id = '{sid}'; SELECT changes();\"")
        assert r.stdout.strip() == "1", r.stdout + r.stderr
    else:
        r = edge.mail.host.run(
            "cd / && runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -d roundcube -tAc %s",
            f"UPDATE session SET changed = now() - interval '{minutes + 1} minutes' WHERE sess_id = '{sid}'")
        assert r.rc == 0 and r.stdout.strip() == "UPDATE 1", r.stdout + r.stderr
    page = b.get("/?_task=mail&_mbox=INBOX")
    assert not logged_in(page.body) and 'id="rcmloginuser"' in page.body, page.body[:1000]
    evidence(f"session_lifetime {minutes} min; a session idle for {minutes + 1} min gets the login page")


@pytest.mark.control("WEB-07")
def test_installer_and_internal_files_are_not_served(edge, evidence):
    b = _browser(edge)
    paths = ["/installer/", "/installer/index.php", "/composer.json", "/config/config.inc.php", "/SQL/sqlite.initial.sql",
             "/logs/errors.log", "/temp/", "/program/include/iniset.php", "/plugins/managesieve/config.inc.php",
             "/bin/update.sh", "/.htaccess"]
    statuses = {p: b.get(p).status for p in paths}
    assert set(statuses.values()) == {404}, statuses
    assert _config(edge, "enable_installer") == "false"
    evidence(f"{len(paths)} paths (installer, config, SQL, logs, sources) answer 404; enable_installer false")


@pytest.mark.control("WEB-08")
def test_a_request_over_the_size_limit_gets_the_bilingual_413_page(edge, session, evidence):
    limit = int(edge.mail.host.run("postconf -h message_size_limit").stdout.strip())
    assert int(_config(edge, "max_message_size")) == limit
    pool = edge.mail.host.run("cat /etc/php/*/fpm/pool.d/webmail.conf").stdout
    assert f"php_admin_value[upload_max_filesize] = {limit}" in pool and f"post_max_size] = {limit}" in pool
    b = session["browser"]
    # nginx answers from the declared length, before reading the body
    answer = b.request("POST", "/?_task=mail&_action=upload", headers={
        "Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(limit + 1)}, body=b"--x--\r\n")
    assert answer.status == 413, answer.status
    assert "Tệp đính kèm quá lớn" in answer.body and "Attachment too large" in answer.body, answer.body[:500]
    _check_headers(answer, "413")
    evidence(f"message_size_limit {limit}: Roundcube and PHP use it; a {limit + 1}-byte request gets 413 "
             "with the Vietnamese and English message")


@pytest.mark.control("WEB-09")
def test_login_works_and_a_wrong_password_gives_an_error_and_no_session(edge, session, evidence):
    assert session["login"].header("Location").endswith("_task=mail") or "_task=mail" in session["login"].header(
        "Location")
    b = _browser(edge)
    answer = b.login(USER, "wrong-password-1")
    assert answer.status in (200, 401), answer.status
    assert not logged_in(answer.body)
    assert "rcmloginuser" in answer.body  # the login form again, with Roundcube's error message
    assert not logged_in(b.get("/?_task=mail&_mbox=INBOX").body)
    evidence(f"{USER} logs in (302 to the inbox, IMAP over TLS verified); a wrong password: {answer.status}, "
             "the login form again and no working session")


@pytest.mark.control("WEB-10")
def test_imap_and_submission_are_tls_with_the_certificate_verified(edge, evidence):
    imap = _config(edge, "imap_host")
    smtp = _config(edge, "smtp_host")
    assert imap.startswith("'ssl://") and imap.endswith(":993'"), imap
    assert smtp.startswith("'tls://") and smtp.endswith(":587'"), smtp
    assert _config(edge, "smtp_user") == "'%u'" and _config(edge, "smtp_pass") == "'%p'"
    for key in ("imap_conn_options", "smtp_conn_options"):
        options = _config(edge, key)
        assert "'verify_peer' => true" in options and "'verify_peer_name' => true" in options, options
        assert f"'peer_name' => '{edge.mail.hostname}'" in options and "'cafile' => '" in options, options
    evidence(f"imap_host {imap}, smtp_host {smtp} as the user (%u/%p), both verify_peer with the CA for "
             f"{edge.mail.hostname}")


@pytest.mark.control("WEB-11")
def test_a_user_cannot_change_the_address_of_an_identity(edge, evidence):
    level = int(_config(edge, "identities_level"))
    assert level in (1, 3), level
    evidence(f"identities_level {level}")


@pytest.mark.control("WEB-12")
def test_failed_webmail_logins_ban_the_address(edge, evidence, tmp_path):
    """Last in this file: MAXRETRY wrong passwords from a client container, then it is refused on every port."""
    result = failed_logins(container_network(edge.mail.name), client_volume(edge.mail.target, tmp_path),
                           edge.mail.target, "vanphong@gialai.gov.vn", MAXRETRY, ports=(443, 80, 993))
    try:
        assert all(r.startswith("refused-") for r in result["replies"][:MAXRETRY - 1]), result
        assert "logged-in" not in result["replies"], result
        assert set(result["after"].values()) <= {"refused", "filtered"}, result
        deadline = time.monotonic() + 30
        while True:
            status = edge.mail.host.run("fail2ban-client status roundcube-auth").stdout
            if result["ip"] in status or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result["ip"] in status, status
        # the controller (a bastion) still reaches the webmail
        assert _browser(edge).get("/").status == 200
    finally:
        edge.mail.host.run(f"fail2ban-client unban {result['ip']}")
    evidence(f"{MAXRETRY} failed webmail logins from {result['ip']}: {result['replies']}; then 443, 80 and 993 "
             f"{sorted(set(result['after'].values()))}; jail roundcube-auth lists it")
