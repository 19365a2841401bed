"""playbooks/audit.yml: the read-only conformance audit of deployed servers,
run here against the converged instances exactly as an operator runs it
against production (through an inventory), and judged by what it reports."""

from __future__ import annotations

import json
import os
import re

from tests.helpers.lab import ROOT, changed_counts, run_site


def test_audit_playbook_reports_every_host_and_changes_nothing():
    # A run of its own per scenario: default and debian12 verify side by side.
    run = f"audit-{os.environ.get('MOLECULE_SCENARIO_NAME', 'local')}"
    result = run_site(None, {"mail_audit_run": run}, "all", playbook="playbooks/audit.yml")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "every audited control passed" in out
    recap = changed_counts(result.stdout)
    assert recap and all(changed == 0 for changed in recap.values()), recap
    hosts = [h for h in recap if h != "localhost"]
    assert len(hosts) >= 1, recap
    results = json.loads((ROOT / "reports" / "conformance" / run / "results.json").read_text(encoding="utf-8"))
    for host in hosts:
        report = (ROOT / "reports" / "conformance" / run / f"{host}.md").read_text(encoding="utf-8")
        counts = results["hosts"][host]["counts"]
        assert counts["fail"] == 0 and counts["not_proven"] == 0 and counts["pass"] >= 12, counts
        assert re.search(r"ĐẠT/PASS \d+, KHÔNG ĐẠT/FAIL 0, CHƯA CHỨNG MINH/NOT PROVEN 0", report), report[:800]
        # every row names its control in both languages with a verdict
        assert "| TLS-01 | Mọi cổng TLS" in report and "**ĐẠT / PASS**" in report
    assert (ROOT / "reports" / "conformance" / run / "junit.xml").exists()
