"""Independent scanners judge each deployed host; their figures end up in reports/.

- ssh-audit 3.9.0 (own venv, scripts/setup.sh): the release's hardened Debian policy, exit 0.
- testssl.sh 3.0.8 (Debian): no finding of severity HIGH or CRITICAL on 25, 465, 993.
- lynis 3.0.8 (Debian, on the controller): copied into the host for the audit and
  removed afterwards (an auditor brings the tool; nothing is installed); the
  hardening index must stay at or above the best value reached.

A scanner that stopped early must not pass: each test first asserts that the
result is complete (tests/helpers/scanners.py: testssl.sh's protocol, cipher,
server-default and vulnerability sections for every port and its scanTime footer;
ssh-audit's kex, key, enc and mac sections beside the policy verdict of the same
scan; lynis's finish line and number of tests), then judges it.

Every figure is written to reports/scanners-<host>.txt and printed at the end of
the run (conftest.py: pytest_terminal_summary).
"""

from __future__ import annotations

import concurrent.futures
import re
import subprocess
import time

import pytest

from tests.helpers.lab import ROOT, load_lab_data, podman, target_for
from tests.helpers.scanners import (incomplete_lynis, incomplete_ssh_audit, incomplete_testssl, record, run_testssl,
                                    ssh_audit_json, severe_testssl_findings)

SSH_AUDIT_PYTHON = ROOT / ".venv-ssh-audit" / "bin" / "python3"
SSH_AUDIT_BOTH = ROOT / "tests" / "helpers" / "ssh_audit_both.py"
SSH_POLICY = {"12": "Hardened Debian 12 (version 3)", "13": "Hardened Debian 13 (version 1)"}
# The best lynis hardening index reached per release in the lab (stock container: 59;
# 75 on both on 2026-11-28; 79 (Debian 12) and 78 (13) on 2026-11-29 with the idle
# shell timeout, login.defs ageing and firewire-core refused; the one warning left is
# PKGS-7388: lynis 3.0.8 does not read deb822 .sources files, so it misses the
# -security suite that is there).
# Hold the line: raise these when the index goes up, never lower them.
LYNIS_MIN = {"12": 79, "13": 78}
# A lynis run that finished performs at least this many tests (246 on Debian 13 on
# 2026-12-03); fewer means a run cut short even if it wrote its last lines.
LYNIS_TESTS_DONE_MIN = 150
TESTSSL_PORTS = {25: "smtp", 465: None, 993: None}


def _major(mail) -> str:
    return mail.release.split(".")[0]


@pytest.mark.control("SSH-06")
def test_ssh_audit_hardened_debian_policy(mail):
    policy = SSH_POLICY[_major(mail)]
    start = time.monotonic()
    result = subprocess.run([str(SSH_AUDIT_PYTHON), str(SSH_AUDIT_BOTH), "-n", "-j", "-P", policy, mail.target.address],
                            capture_output=True, text=True, timeout=120)
    report, verdict = ssh_audit_json(result.stdout)
    problems = incomplete_ssh_audit(report, verdict, policy)
    passed = result.returncode == 0 and not problems and verdict["passed"]
    record(mail, "ssh-audit", f"{'PASS' if passed else 'FAIL'} ({policy}, "
                              f"{time.monotonic() - start:.0f} s)")
    assert problems == [], (problems, result.stdout[-3000:], result.stderr[-2000:])
    assert verdict["passed"] is True and verdict["errors"] == [], verdict
    assert result.returncode == 0, result.stdout[-3000:]


LYNIS_DIR = "/root/lynis-audit"


def _lynis(name: str) -> tuple[str, str, float]:
    """Run lynis inside the instance (copied in, removed after): (report.dat, output, seconds)."""
    podman("exec", name, "rm", "-rf", LYNIS_DIR)
    podman("exec", name, "mkdir", "-p", LYNIS_DIR)
    for src, dst in (("/usr/sbin/lynis", "lynis"), ("/usr/share/lynis/include", "include"),
                     ("/usr/share/lynis/db", "db"), ("/etc/lynis/plugins", "plugins"), ("/etc/lynis/default.prf", "default.prf")):
        podman("cp", src, f"{name}:{LYNIS_DIR}/{dst}")
    start = time.monotonic()
    try:
        run = podman("exec", name, "sh", "-c",
                     f"chown -R root:root {LYNIS_DIR} && chmod -R go-w {LYNIS_DIR} && cd {LYNIS_DIR} && "
                     f"./lynis audit system --quick --cronjob --no-colors "
                     f"--report-file {LYNIS_DIR}/report.dat --logfile {LYNIS_DIR}/lynis.log", check=False)
        report = podman("exec", name, "cat", f"{LYNIS_DIR}/report.dat", check=False).stdout
    finally:
        podman("exec", name, "rm", "-rf", LYNIS_DIR, check=False)
    return report, run.stdout[-2000:] + run.stderr[-2000:], time.monotonic() - start


@pytest.fixture(scope="session")
def scans(instance_names, tmp_path_factory):
    """lynis on every instance and testssl.sh on every (instance, port), all at once.

    The scanners mostly wait (on handshakes, on the container's file system), so
    running them side by side takes about as long as the slowest one instead of
    the sum; each test below then judges one host's results.
    """
    lab = load_lab_data()
    out_dir = tmp_path_factory.mktemp("testssl")
    pool = concurrent.futures.ThreadPoolExecutor(len(instance_names) * (len(TESTSSL_PORTS) + 1))
    started = time.monotonic()
    futures = {}
    for name in instance_names:
        target = target_for(name, lab.hostname)
        futures[("lynis", name)] = pool.submit(_lynis, name)
        for port in TESTSSL_PORTS:
            futures[("testssl", name, port)] = pool.submit(run_testssl, target, lab.hostname, port,
                                                             out_dir / f"testssl-{name}-{port}.json", TESTSSL_PORTS[port])
    yield {"futures": futures, "started": started}
    pool.shutdown(wait=True)


@pytest.mark.control("SCN-01")
def test_testssl_no_high_or_critical_findings(mail, scans):
    results = [scans["futures"][("testssl", mail.name, port)].result() for port in TESTSSL_PORTS]
    elapsed = time.monotonic() - scans["started"]
    incomplete = [p for port, rc, findings in results
                  for p in incomplete_testssl(rc, findings if findings is not None else "no JSON", port)]
    bad, excepted = severe_testssl_findings(results)
    record(mail, "testssl", f"{len(bad)} HIGH/CRITICAL on ports {sorted(TESTSSL_PORTS)} "
                            f"(excepted: {sorted(excepted) or 'none'}; exit status {[rc for _p, rc, _f in results]}; "
                            f"{'complete' if not incomplete else 'INCOMPLETE'}; done {elapsed:.0f} s after the scans started)")
    assert incomplete == [], incomplete
    assert bad == [], bad


@pytest.mark.control("OS-08")
def test_lynis_hardening_index(mail, scans):
    report, output, seconds = scans["futures"][("lynis", mail.name)].result()
    assert incomplete_lynis(report, LYNIS_TESTS_DONE_MIN) == [], (incomplete_lynis(report, LYNIS_TESTS_DONE_MIN), output)
    match = re.search(r"^hardening_index=(\d+)$", report, re.M)
    assert match, output
    done = re.search(r"^lynis_tests_done=(\d+)$", report, re.M).group(1)
    index = int(match.group(1))
    warnings = re.findall(r"^warning\[\]=(.*)$", report, re.M)
    record(mail, "lynis", f"hardening index {index} (threshold {LYNIS_MIN[_major(mail)]}; "
                          f"{len(warnings)} warnings; {done} tests; {seconds:.0f} s)")
    for w in warnings:
        print("lynis warning:", w)
    assert index >= LYNIS_MIN[_major(mail)], warnings
