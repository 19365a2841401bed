"""Dovecot's own OpenMetrics: the same series on Dovecot 2.3 (Debian 12) and 2.4 (Debian 13),
counting what clients do.

This scenario turns them on without a monitor host (molecule/default/group_vars/mail_store:
dovecot_metrics_port 9900), so only the host itself reaches them here; that an outside client
gets no connection is FW-02's, that a monitor host scrapes them is MON-01's (edge).
"""

from __future__ import annotations

import imaplib
import re
import time

import pytest

from tests.helpers.mailclient import IMAPS

FETCH = ("python3 -c \"import sys, urllib.request; "
         "sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:9900/metrics', timeout=10).read().decode())\"")
SERIES = ("dovecot_auth_successes_total", "dovecot_auth_failures_total")
USER = "hoatt@gialai.gov.vn"


def _metrics(host) -> tuple[str, dict[str, float]]:
    """Dovecot's version (dovecot_build_info) and the counters of SERIES, as the endpoint serves them now."""
    out = host.run(FETCH)
    assert out.rc == 0, out.stderr
    version = re.search(r'^dovecot_build_info\{version="([^"]+)"', out.stdout, re.M)
    assert version, out.stdout[:2000]
    counters = {}
    for name in SERIES:
        line = re.search(rf"^{name} (\S+)$", out.stdout, re.M)
        assert line, f"{name} is not served: {out.stdout[:2000]}"
        counters[name] = float(line.group(1))
    return version.group(1), counters


@pytest.mark.control("MON-13")
def test_dovecot_counts_a_clients_logins_in_its_own_metrics(mail, evidence):
    """A wrong and a right IMAPS login from a client: Dovecot's failure and success counters each move,
    by the same names on both releases (2.3's are defined by name in its template)."""
    version, before = _metrics(mail.host)
    assert version.startswith("2.3" if mail.release.startswith("12") else "2.4"), version
    with IMAPS(mail.target) as imap:
        with pytest.raises(imaplib.IMAP4.error) as refused:
            imap.login(USER, "sai-mat-khau-do-dem")
        assert "AUTHENTICATIONFAILED" in str(refused.value)
    with IMAPS(mail.target) as imap:
        assert imap.login(USER, mail.lab.password(USER))[0] == "OK"
        imap.logout()
    # the stats process hears of each authentication from the auth process, a moment later
    deadline = time.monotonic() + 60
    while True:
        _, after = _metrics(mail.host)
        moved = {name: after[name] - before[name] for name in SERIES}
        if all(d >= 1 for d in moved.values()) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert all(d >= 1 for d in moved.values()), (before, after)
    evidence(f"Dovecot {version} on 127.0.0.1:9900/metrics: a wrong then a right IMAPS login for {USER}: "
             f"{', '.join(f'{n} +{d:.0f}' for n, d in moved.items())}")
