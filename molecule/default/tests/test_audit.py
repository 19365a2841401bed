"""playbooks/audit.yml: the read-only conformance audit of deployed servers,
run here against the converged instances exactly as an operator runs it
against production (through an inventory), and judged by what it reports."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.helpers.lab import ROOT, changed_counts, run_site


# Checks of tests/audit that this scenario proves through the audit run alone, not by
# importing them as its own tests too: sslyze on six ports is the audit's slowest check
# (~2 CPU-minutes a host), and running it twice proved nothing twice.
# {control: the tests/audit check whose verdicts in the audit run prove it}
LEFT_TO_THE_AUDIT_RUN = {"TLS-01": "test_sslyze_mozilla_intermediate"}


@pytest.fixture(scope="module")
def audit_run():
    """playbooks/audit.yml once against every converged host: (result, results.json, run)."""
    # A run of its own per scenario: default and debian12 verify side by side.
    run = f"audit-{os.environ.get('MOLECULE_SCENARIO_NAME', 'local')}"
    result = run_site(None, {"mail_audit_run": run}, "all", playbook="playbooks/audit.yml")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    results = json.loads((ROOT / "reports" / "conformance" / run / "results.json").read_text(encoding="utf-8"))
    return result, results, run


def test_audit_playbook_reports_every_host_and_changes_nothing(audit_run):
    result, results, run = audit_run
    out = result.stdout + result.stderr
    assert "every audited control passed" in out
    recap = changed_counts(result.stdout)
    assert recap and all(changed == 0 for changed in recap.values()), recap
    hosts = [h for h in recap if h != "localhost"]
    assert len(hosts) >= 1, recap
    for host in hosts:
        report = (ROOT / "reports" / "conformance" / run / f"{host}.md").read_text(encoding="utf-8")
        counts = results["hosts"][host]["counts"]
        assert counts["fail"] == 0 and counts["not_proven"] == 0 and counts["pass"] >= 12, counts
        assert re.search(r"ĐẠT/PASS \d+, KHÔNG ĐẠT/FAIL 0, CHƯA CHỨNG MINH/NOT PROVEN 0", report), report[:800]
        # every row names its control in both languages with a verdict
        assert "| TLS-01 | Mọi cổng TLS" in report and "**ĐẠT / PASS**" in report
    assert (ROOT / "reports" / "conformance" / run / "junit.xml").exists()


@pytest.mark.control("TLS-01")
def test_the_audit_run_proves_the_checks_left_to_it(mail, audit_run, evidence):
    """The checks of LEFT_TO_THE_AUDIT_RUN ran on this host in this run's audit and passed, every
    parametrisation of them (sslyze: every TLS port of the host; 4190 only on a mail_store host)."""
    _, results, run = audit_run
    controls = results["hosts"][mail.name]["controls"]
    for cid, check in LEFT_TO_THE_AUDIT_RUN.items():
        tests = [t for t in controls[cid]["tests"] if f"::{check}[" in t["test"] or t["test"].endswith(f"::{check}")]
        assert tests, (cid, check, controls[cid])
        assert all(t["state"] == "pass" for t in tests), [(t["test"], t["state"]) for t in tests]
        assert controls[cid]["verdict"] == "pass", controls[cid]
        if check == "test_sslyze_mozilla_intermediate":
            ports = {25, 143, 465, 587, 993} | ({4190} if "mail_store" in mail.groups else set())
            # the audit's ids: test_sslyze_mozilla_intermediate[<host>-<port>]
            scanned = {int(t["test"].rsplit("[", 1)[1].rstrip("]").rsplit("-", 1)[-1]) for t in tests}
            assert scanned == ports, (scanned, ports)
        for t in tests:
            for line in t["evidence"]:
                evidence(f"audit run {run}: {line}")
