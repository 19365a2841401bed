"""playbooks/audit.yml against a host that runs no mail service: the backup host, as an operator
audits a backup or monitor host of its own. The audit checks it for what it runs (ports, versions,
services, kernel parameters, audit rules) and reports the mail controls not applicable there, with
the reason; a port opened on it behind the roles' back fails the audit. Runs before
test_backup_restore.py (file order), while the backup host is as site.yml left it.
"""

from __future__ import annotations

import json
import shutil
import time

from tests.helpers.lab import ROOT, changed_counts, run_site

from conftest import BACKUP

# What the backup host runs, proven on it by the audit; what it does not run, declared n/a.
PROVEN = ("CFG-02", "CFG-03", "OS-01", "LOG-01")
NOT_APPLICABLE = ("SMTP-02", "SMTP-08", "IMAP-01", "SIEVE-01", "AV-05", "TLS-01", "TLS-02", "TLS-03", "MON-01",
                  "WEB-01")


def _audit(run: str, keep: bool = True):
    """audit.yml on the backup host alone (localhost: the play that runs the checks): its result
    and the host's verdicts. keep=False removes the run's reports once read: a deliberately
    failing audit is this test's evidence, not a statement about the host for the consolidated
    report (scripts/conformance-report.py reads every run under reports/conformance)."""
    result = run_site(f"{BACKUP}:localhost", {"mail_audit_run": run}, "all", playbook="playbooks/audit.yml")
    out = ROOT / "reports" / "conformance" / run
    try:
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    return result, results["hosts"][BACKUP]


def test_the_audit_checks_the_backup_host_for_what_it_runs(evidence):
    result, host = _audit("audit-backup-host")
    out = result.stdout + result.stderr
    assert result.returncode == 0 and "every audited control passed" in out, out[-4000:]
    assert changed_counts(result.stdout).get(BACKUP) == 0, out[-2000:]
    assert host["counts"]["fail"] == 0 and host["counts"]["not_proven"] == 0, host["counts"]
    verdicts = {cid: host["controls"][cid]["verdict"] for cid in PROVEN + NOT_APPLICABLE}
    assert all(verdicts[cid] == "pass" for cid in PROVEN), verdicts
    assert all(verdicts[cid] == "n/a" for cid in NOT_APPLICABLE), verdicts
    assert "the host runs no Postfix" in host["controls"]["SMTP-02"]["na_reason"]["en"]
    evidence(f"{BACKUP}: {host['counts']['pass']} PASS (ports 22 only, no Postfix or Dovecot, services, "
             f"kernel parameters, audit rules), {host['counts']['n/a']} n/a")


def test_a_port_opened_behind_the_roles_back_fails_the_audit(backup_host):
    """An intruder's listener on the backup host (the firewall would drop it from outside, but the
    host must not listen): the audit fails CFG-02, naming the port."""
    unit = "audit-probe-listener"
    started = backup_host.run(f"systemd-run --unit {unit} python3 -m http.server 8025 --bind 0.0.0.0")
    assert started.rc == 0, started.stderr
    try:
        for _ in range(100):  # up to ~20 s: the listener is up before the audit looks
            if backup_host.run("ss -Hltn 'sport = :8025'").stdout.strip():
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the probe listener never listened on 8025")
        result, host = _audit("audit-backup-host-probe", keep=False)
    finally:
        backup_host.run(f"systemctl stop {unit}")
    assert result.returncode != 0, (result.stdout + result.stderr)[-3000:]
    cfg02 = host["controls"]["CFG-02"]
    assert cfg02["verdict"] == "fail", cfg02
    assert any("8025" in t.get("why", "") for t in cfg02["tests"]), cfg02["tests"]
