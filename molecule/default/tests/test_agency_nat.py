"""Agencies behind one NAT (issue 16): many users, one address.

The lab's agency network is the top /28 of the podman network (inventories/lab
lab.yml, mail_agency_networks); a client container pinned to an address there
is a device of that agency, and a second container with the same address is
another device behind the same NAT. Other client containers get addresses from
the bottom of the network: outside the agencies, as the Internet is.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time

import pytest

from tests.helpers.agency import PREAMBLE, WRONG_IMAP, agency_address, agency_network
from tests.helpers.fail2ban import forget
from tests.helpers.lab import podman
from tests.helpers.outside import container_network, run_client

MAXRETRY = 3  # fail2ban_maxretry in inventories/lab/group_vars/all/lab.yml

# Another user of the same agency, from the same address: IMAPS and SMTP AUTH.
RIGHT_LOGIN = PREAMBLE + """
out = {"ip": ip}
try:
    c = imaplib.IMAP4_SSL(address, 993, ssl_context=ctx, timeout=60)
    out["imap"] = c.login(%(user)r, %(password)r)[0]; out["select"] = c.select("INBOX")[0]; c.logout()
except Exception as e:
    out["imap"] = "error:%%r" %% e
try:
    with smtplib.SMTP(address, 587, timeout=60) as s:
        s.ehlo("agency.example"); s.starttls(context=ctx); s.ehlo("agency.example")
        out["smtp"] = s.login(%(user)r, %(password)r)[0]
except Exception as e:
    out["smtp"] = "error:%%r" %% e
print(json.dumps(out))
"""

# Wrong SMTP AUTH passwords (PLAIN, then LOGIN) and a plaintext IMAP LOGIN before STARTTLS.
MIXED_FAILURES = PREAMBLE + """
smtp = []
with smtplib.SMTP(address, 587, timeout=60) as s:
    s.ehlo("client.example"); s.starttls(context=ctx); s.ehlo("client.example")
    for mech, i in (("PLAIN", 1), ("LOGIN", 2)):
        s.user, s.password = %(user)r, "wrong-password-%%d" %% i
        try:
            s.auth(mech, getattr(s, "auth_" + mech.lower())); smtp.append("accepted")
        except smtplib.SMTPAuthenticationError as e:
            smtp.append(e.smtp_code)
c = imaplib.IMAP4(address, 143, timeout=60)
try:
    c.login(%(user)r, "wrong-password-3"); imap = "accepted"
except imaplib.IMAP4.error as e:
    imap = str(e)
finally:
    try: c.logout()
    except Exception: pass
print(json.dumps({"ip": ip, "smtp": smtp, "imap": imap}))
"""

# Many simultaneous sessions on 587 from one address: each banner's reply code.
SESSIONS = PREAMBLE + """
socks, codes = [], []
for _ in range(%(count)d):
    s = socket.create_connection((address, 587), timeout=30); socks.append(s)
for s in socks:
    f = s.makefile("rb"); line = f.readline().decode()
    codes.append(line[:3])
    while line[3:4] == "-":
        line = f.readline().decode()
for s in socks:
    try: s.sendall(b"QUIT\\r\\n")
    except OSError: pass
    s.close()
print(json.dumps({"ip": ip, "codes": codes}))
"""


def _gateway(network: str) -> str:
    """The controller's address as the containers see it (the network's gateway)."""
    data = json.loads(podman("network", "inspect", network).stdout)[0]
    return data["subnets"][0]["gateway"]


def _log_from(mail, start: int) -> str:
    return mail.host.run(f"tail -n +{start + 1} /var/log/fail2ban.log").stdout


def _log_lines(mail) -> int:
    return int(mail.host.run("wc -l < /var/log/fail2ban.log").stdout.strip() or 0)


def _wait_for_log(mail, start: int, done, seconds: int = 90) -> str:
    """fail2ban's log since line `start` once `done(log)` holds (bounded: fail2ban reads the journal in its time)."""
    deadline = time.monotonic() + seconds
    while True:
        log = _log_from(mail, start)
        if done(log) or time.monotonic() > deadline:
            return log
        time.sleep(1)


def _banned(log: str, ip: str) -> bool:
    return re.search(rf"\] Ban {re.escape(ip)}\b", log) is not None


def _unban(mail, ip):
    forget(mail.host, ip)


@pytest.mark.control("F2B-05")
def test_one_users_failures_do_not_lock_out_the_rest_of_the_agency(mail):
    ip = agency_address(mail, 0)
    network = container_network(mail.name)
    user, other = "locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"
    tries = MAXRETRY + 1  # one more than bans an address outside the agencies
    start = _log_lines(mail)
    try:
        failed = run_client(network, WRONG_IMAP % {"address": mail.target.address, "user": user, "tries": tries},
                            ip=ip)
        assert failed["ip"] == ip and failed["replies"] == ["NO"] * tries, failed
        # fail2ban has seen every failure (or banned the address) before we look at the verdict
        found = re.compile(rf"\] Found {re.escape(ip)}\b")
        log = _wait_for_log(mail, start, lambda text: len(found.findall(text)) >= tries or _banned(text, ip))
        assert not _banned(log, ip), log[-3000:]
        # counted against the agencies' own threshold, not ignored
        assert len(re.findall(rf"\[dovecot-agency\] Found {re.escape(ip)}\b", log)) == tries, log[-3000:]
        # another device behind the same NAT: another user logs in over IMAPS and SMTP AUTH
        seen = run_client(network, RIGHT_LOGIN % {"address": mail.target.address, "user": other,
                                                  "password": mail.lab.password(other)}, ip=ip)
        assert seen == {"ip": ip, "imap": "OK", "select": "OK", "smtp": 235}, seen
        for jail in ("dovecot", "dovecot-agency", "postfix-sasl", "postfix-sasl-agency"):
            status = mail.host.run(f"fail2ban-client status {jail}").stdout
            assert ip not in status, status
    finally:
        _unban(mail, ip)


@pytest.mark.control("F2B-05")
def test_each_failed_login_counts_once(mail):
    """Two wrong SMTP AUTH passwords and one plaintext IMAP login from an address outside the agencies:
    postfix-sasl counts 2, dovecot 1 (it used to count Postfix's SASL lookups again: 3, a ban at maxretry 3)."""
    start = _log_lines(mail)
    network = container_network(mail.name)
    result = run_client(network,
                        MIXED_FAILURES % {"address": mail.target.address, "user": "vanphong@gialai.gov.vn"})
    ip = result["ip"]
    try:
        assert ipaddress.ip_address(ip) not in agency_network(mail), ip  # outside the agencies
        assert result["smtp"] == [535, 535], result
        assert result["imap"] != "accepted", result  # refused before TLS (PRIVACYREQUIRED)
        # A marker behind them in the journal: a plaintext IMAP login from the controller, which
        # the dovecot jail matches and ignores (an administrator). Once fail2ban logs that, it has
        # read every line of this client before it.
        import imaplib

        with imaplib.IMAP4(mail.target.address, 143, timeout=30) as marker:
            with pytest.raises(imaplib.IMAP4.error):
                marker.login("marker@gialai.gov.vn", "not-a-password")
        sasl = re.compile(rf"\[postfix-sasl\] Found {re.escape(ip)}\b")
        marked = f"[dovecot] Ignore {_gateway(network)} by ip"
        log = _wait_for_log(mail, start, lambda text: (len(sasl.findall(text)) >= 2 and marked in text)
                            or _banned(text, ip))
        counts = {jail: len(re.findall(rf"\[{jail}\] Found {re.escape(ip)}\b", log))
                  for jail in ("postfix-sasl", "dovecot")}
        assert counts == {"postfix-sasl": 2, "dovecot": 1}, log[-3000:]
        assert not _banned(log, ip), log[-3000:]
    finally:
        _unban(mail, ip)


@pytest.mark.control("SMTP-18")
def test_submission_takes_an_agency_beyond_the_per_address_connection_count(mail):
    limit = int(mail.host.run("postconf -h smtpd_client_connection_count_limit").stdout.strip())
    network = container_network(mail.name)
    count = limit + 2
    agency = run_client(network, SESSIONS % {"address": mail.target.address, "count": count},
                        ip=agency_address(mail, 1))
    assert agency["codes"] == ["220"] * count, agency
    outside = run_client(network, SESSIONS % {"address": mail.target.address, "count": count})
    # which sessions anvil refuses depends on the order smtpd processes take them: count them
    assert sorted(outside["codes"]) == ["220"] * limit + ["421"] * (count - limit), outside
