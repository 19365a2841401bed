"""Dovecot's own OpenMetrics: the same series on Dovecot 2.3 (Debian 12) and 2.4 (Debian 13),
counting what clients do.

This scenario turns them on without a monitor host (molecule/default/group_vars/mail_store:
dovecot_metrics_port 9900), so only the host itself reaches them here; that an outside client
gets no connection is FW-02's, that a monitor host scrapes them is MON-01's (edge).
"""

from __future__ import annotations

import imaplib
import re

import pytest

from tests.helpers.lab import fetch, poll
from tests.helpers.mailclient import IMAPS

METRICS = "http://127.0.0.1:9900/metrics"
SERIES = ("dovecot_auth_successes_total", "dovecot_auth_failures_total")
USER = "hoatt@gialai.gov.vn"


def _metrics(host) -> tuple[str, dict[str, float]]:
    """Dovecot's version (dovecot_build_info) and the counters of SERIES, as the endpoint serves them now."""
    out = fetch(host, METRICS)
    version = re.search(r'^dovecot_build_info\{version="([^"]+)"', out, re.M)
    assert version, out[:2000]
    counters = {}
    for name in SERIES:
        line = re.search(rf"^{name} (\S+)$", out, re.M)
        assert line, f"{name} is not served: {out[:2000]}"
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

    def moved():  # the stats process hears of each authentication from the auth process, a moment later
        after = _metrics(mail.host)[1]
        deltas = {name: after[name] - before[name] for name in SERIES}
        return deltas if all(d >= 1 for d in deltas.values()) else None

    moved = poll(f"{' and '.join(SERIES)} each up by at least 1 from {before}", moved, timeout=60)
    evidence(f"Dovecot {version} on 127.0.0.1:9900/metrics: a wrong then a right IMAPS login for {USER}: "
             f"{', '.join(f'{n} +{d:.0f}' for n, d in moved.items())}")
