"""playbooks/audit.yml: the read-only conformance audit of deployed servers,
run here against the converged instances exactly as an operator runs it
against production (through an inventory), and judged by what it reports."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess

from tests.helpers.lab import ROOT


def test_audit_playbook_reports_every_host_and_changes_nothing():
    inventory = pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("MAIL_CONFORMANCE_RUN", None)
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(ROOT / "playbooks" / "audit.yml")],
        capture_output=True, text=True, env=env, timeout=1200, cwd=ROOT,
    )
    stdout = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # Molecule forces colour
    out = stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "every audited control passed" in out
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", stdout, re.M)
    assert recap and all(changed == "0" for _, changed in recap), recap
    hosts = [h for h, _ in recap if h != "localhost"]
    assert len(hosts) >= 1, recap
    for host in hosts:
        report = (ROOT / "reports" / "conformance" / "audit" / f"{host}.md").read_text(encoding="utf-8")
        summary = re.search(r"ĐẠT/PASS (\d+), KHÔNG ĐẠT/FAIL (\d+), KHÔNG ÁP DỤNG/N/A (\d+)", report)
        assert summary, report[:500]
        passed, failed, _ = map(int, summary.groups())
        assert failed == 0 and passed >= 12, summary.group(0)
        # every row names its control in both languages with a verdict
        assert "| TLS-01 | Mọi cổng TLS" in report and "**ĐẠT / PASS**" in report
    assert (ROOT / "reports" / "conformance" / "audit" / "junit.xml").exists()
