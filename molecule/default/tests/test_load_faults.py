"""The drill's short form on this scenario's host (MON-14): mail keeps flowing through faults.

scripts/drill.py is `make drill`'s program (the full drill runs on the lab, with alerts); here it
runs short, so that a change that loses mail under a fault, or breaks the drill, fails the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.helpers.lab import LMTP_SOCKET, ROOT, poll, postfix_queue
from tests.helpers.mailclient import imap_wait_for, make_message, smtp_send


@pytest.mark.exclusive  # it kills clamd and takes LMTP away: nothing else may run meanwhile
@pytest.mark.control("MON-14")
def test_a_killed_clamd_and_a_lost_lmtp_lose_and_duplicate_nothing(mail, tmp_path):
    report = tmp_path / "drill.json"
    # inbound only: submission would spend the lab users' hourly budget that the rate-limit tests count
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "drill.py"), "--host", mail.name,
         "--inventory", os.environ["MOLECULE_INVENTORY_FILE"], "--duration", "40", "--rate", "5",
         "--submission-rate", "0", "--outage", "10", "--faults", "clamd,lmtp", "--no-alerts",
         "--settle", "180", "--report", str(report)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    print(run.stdout[-3000:])
    figures = json.loads(report.read_text())
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert figures["offered"] >= 150 and figures["offered_eicar"] > 0, figures
    assert figures["retries_after_4xx"] > 0, "clamd's outage deferred nothing: the fault did not happen"
    assert [f["fault"].split()[0] for f in figures["faults"]] == ["clamd", "LMTP"]
    assert (figures["lost"], figures["duplicated"], figures["duplicated_in_lmtp_log"]) == (0, 0, 0)
    assert figures["eicar_accepted"] == 0 and figures["clean_refused"] == 0
    assert figures["refused_eicar"] == figures["offered_eicar"]
    assert figures["delivered"] == figures["accepted"] == figures["offered"] - figures["offered_eicar"]


def _deferred(host, sender: str) -> list[str]:
    """The delay reasons of the messages from sender that Postfix holds in its deferred queue."""
    reasons = []
    for entry in postfix_queue(host):
        if entry.get("queue_name") == "deferred" and entry.get("sender") == sender:
            reasons += [r.get("delay_reason", "") for r in entry.get("recipients", [])]
    return reasons


@pytest.mark.exclusive  # LMTP goes away and Dovecot restarts: nothing else may deliver or log in meanwhile
@pytest.mark.control("MON-14")
def test_mail_held_for_dovecot_is_delivered_as_soon_as_dovecot_restarts(mail, evidence):
    """Postfix marks LMTP dead when a delivery fails and would retry only at its next backoff
    (minimal_backoff_time, 300 s); the dovecot role's ExecStartPost tells it to deliver once LMTP
    greets again. With LMTP's socket taken away (Dovecot itself up: its quota check still answers
    at RCPT, so the mail is accepted and queued), three messages are deferred; Dovecot restarts
    (making its socket again) and they arrive well inside the backoff, with no manual flush."""
    host, rcpt = mail.host, "hoatt@gialai.gov.vn"
    sender = f"cho-dovecot-{uuid.uuid4().hex[:8]}@partner.example"
    msgs = [make_message(sender, [rcpt], f"Chờ Dovecot {n}") for n in range(3)]
    assert host.run(f"mv {LMTP_SOCKET} {LMTP_SOCKET}.held").rc == 0
    try:
        for msg in msgs:
            assert smtp_send(mail.target, msg, port=25) == {}
        reasons = poll("the three messages deferred by Postfix",
                       lambda: (r := _deferred(host, sender)) and len(r) == 3 and r, timeout=120)
        evidence(f"LMTP's socket gone: Postfix deferred 3 messages ({sorted(set(reasons))[0][:120]})")
    finally:
        restarted = host.run("systemctl restart dovecot")
        host.run(f"rm -f {LMTP_SOCKET}.held")
    assert restarted.rc == 0, restarted.stderr
    # Within 90 s, under a third of the backoff the mail would otherwise wait: the drop-in, not a retry.
    for msg in msgs:
        assert len(imap_wait_for(mail.target, rcpt, mail.lab.password(rcpt), msg["Message-ID"], timeout=90)) == 1
    assert _deferred(host, sender) == []
    evidence("Dovecot restarted: all 3 delivered without anyone flushing the queue "
             "(Postfix's next retry was 300 s away)")
