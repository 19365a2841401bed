"""The drill's short form on this scenario's host (MON-14): mail keeps flowing through faults.

scripts/drill.py is `make drill`'s program (the full drill runs on the lab, with alerts); here it
runs short, so that a change that loses mail under a fault, or breaks the drill, fails the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers.lab import ROOT


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
