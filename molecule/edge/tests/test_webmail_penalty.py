"""An attacker's failed webmail logins land on the attacker, not on every webmail user (WEB-14).

Roundcube logs in to this host's Dovecot from 127.0.0.1 for every user. Unless it names
the browser's address, Dovecot's auth penalty (up to 15 s per login), its log's rip=
and the dovecot jail all see 127.0.0.1: a burst of wrong passwords slows every webmail
user, and the attacker's address is never in Dovecot's log. The webmail role's plugin
names the browser's address before LOGIN (IMAP ID x-originating-ip) and Dovecot believes
it from loopback only (login_trusted_networks). Proven from two throw-away client
containers: an attacker who fails logins until banned, then a user elsewhere who logs in.

After test_webmail.py's ban test (WEB-12) and the browser tests, in its own module: the
attacker here is another container, banned and unbanned within this test.
"""

from __future__ import annotations

import re
import shlex
import time
import uuid

import pytest

from tests.helpers.lab import journal_after, journal_mark
from tests.helpers.outside import container_network
from tests.helpers.webmail_clients import client_volume, failed_logins, login_from_elsewhere

# Guessed by the attacker: no such account (no user of ours gets Roundcube's per-user lock).
TARGET = f"giamdoc-{uuid.uuid4().hex[:6]}@gialai.gov.vn"
# The user who logs in right after, from elsewhere. An active lab account no other edge
# module logs in with (test_webmail_vacation.py logs it in afterwards).
USER = "luutru@gialai.gov.vn"

def _penalties(host) -> dict[str, tuple[int, str]]:
    """doveadm penalty: {address: (penalty, when it was last raised)} as Dovecot's anvil keeps them."""
    out = host.run("doveadm penalty")
    assert out.rc == 0, out.stdout + out.stderr
    table = {}
    for line in out.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3 and fields[1].isdigit():
            table[fields[0]] = (int(fields[1]), " ".join(fields[2:-1]))
    return table


def _dovecot_lines(host, since: str, pattern: str, count: int, seconds: int = 60) -> list[str]:
    """Dovecot's log lines since `since` that match `pattern` (a regex), read again (bounded) until
    there are `count`."""
    read = f"journalctl -q --no-pager -o cat -u dovecot.service --since={shlex.quote(since)}"
    deadline = time.monotonic() + seconds
    while True:
        lines = [line for line in host.run(read).stdout.splitlines() if re.search(pattern, line)]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


def _rip(line: str) -> str:
    m = re.search(r"\brip=([0-9a-fA-F:.]+)", line)
    assert m, line
    return m.group(1)


@pytest.mark.control("WEB-14")
def test_failed_webmail_logins_count_against_the_attacker_not_every_webmail_user(edge, evidence, tmp_path):
    host = edge.mail.host
    maxretry = int(host.run("fail2ban-client get dovecot maxretry").stdout.strip())
    trusted = host.run("doveconf -h login_trusted_networks").stdout.split()
    assert "127.0.0.1/32" in trusted, trusted
    before = _penalties(host)
    since = journal_mark(host)
    volume = client_volume(edge.mail.target, tmp_path)
    network = container_network(edge.mail.name)

    attacker = failed_logins(network, volume, edge.mail.target, TARGET, maxretry)
    try:
        assert attacker["replies"] and "logged-in" not in attacker["replies"], attacker
        assert all(r.startswith("refused-") for r in attacker["replies"][:maxretry - 1]), attacker
        # Right after the burst, another user elsewhere logs in through the webmail.
        user = login_from_elsewhere(network, volume, edge.mail.target, USER, edge.mail.password(USER))
        assert user["ip"] != attacker["ip"], (user, attacker)
        assert user["login"] == 302 and user["inbox"], user

        # Dovecot's log names the attacker for each failure, never 127.0.0.1 ...
        failed = _dovecot_lines(host, since, rf"\(auth failed.*user=<{re.escape(TARGET)}>", maxretry)
        assert len(failed) >= maxretry - 1, failed
        assert {_rip(line) for line in failed} == {attacker["ip"]}, failed
        # ... and the user's login with the user's own address (2.4 "Logged in:", 2.3 "Login:").
        logins = _dovecot_lines(host, since, rf"imap-login: (Logged in|Login): user=<{re.escape(USER)}>", 1)
        assert logins and {_rip(line) for line in logins} == {user["ip"]}, logins

        # The dovecot jail bans the attacker's address (roundcube-auth does too), not loopback.
        deadline = time.monotonic() + 30
        while attacker["ip"] not in (status := host.run("fail2ban-client status dovecot").stdout):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert attacker["ip"] in status, status
        assert attacker["after"][443] in ("refused", "filtered"), attacker  # banned on 443 too

        # Dovecot's auth penalty sits on the attacker; loopback's (if any) did not move, and the
        # user's address has none.
        after = _penalties(host)
        assert after.get(attacker["ip"], (0, ""))[0] >= 1, after
        assert after.get("127.0.0.1") == before.get("127.0.0.1"), (before, after)
        assert user["ip"] not in after, after
        roundcube = journal_after(host, since, f"Successful login for {USER}", "Failed login for")
        assert f"from {attacker['ip']}" in roundcube and f"from {user['ip']}" in roundcube, roundcube[-2000:]
    finally:
        host.run(f"fail2ban-client unban {attacker['ip']}")
    evidence(f"{len(attacker['replies'])} failed webmail logins as {TARGET} from {attacker['ip']}: Dovecot logged "
             f"rip={attacker['ip']} for each, the dovecot jail banned it, doveadm penalty "
             f"{after.get(attacker['ip'])} for it, 127.0.0.1 {after.get('127.0.0.1', 'none')} (unchanged); then "
             f"{USER} from {user['ip']} logged in (302, inbox, {user['seconds']} s), Dovecot: rip={user['ip']}")
