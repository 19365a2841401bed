"""The scanners' completeness checks (tests/helpers/scanners.py) refuse a cut-down result.

molecule/default/tests/test_scanners.py and test_tls.py judge testssl.sh, sslyze,
ssh-audit and lynis only after these checks pass, so a scan that stopped early (a
closed port, a killed run, a missing section) fails instead of passing with nothing
found. The testssl.sh file is a real --jsonfile of port 25 from the lab (3.0.8).
"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from tests.helpers.scanners import (SSH_AUDIT_SECTIONS, SSLYZE_MOZILLA_COMMANDS, TESTSSL_SECTIONS, incomplete_lynis,
                                    ssh_audit_json, incomplete_ssh_audit, incomplete_sslyze, incomplete_testssl)

TESTSSL_25 = json.loads((pathlib.Path(__file__).parent / "data" / "testssl-smtp-25.json").read_text())
HOST = "mail.gialai.gov.vn"
POLICY = "Hardened Debian 13 (version 1)"


def _without(findings, *ids):
    return [f for f in findings if f["id"] not in ids]


# --- testssl.sh ---------------------------------------------------------------------------

def test_testssl_complete_run_has_no_problem():
    assert incomplete_testssl(0, TESTSSL_25, 25) == []
    assert incomplete_testssl(3, TESTSSL_25, 25) == []  # ambiguous results counted, but it ran to its end


def test_testssl_run_cut_after_the_cipher_sections_is_incomplete():
    cut = TESTSSL_25[:[f["id"] for f in TESTSSL_25].index("PFS")]  # killed: no later section, no footer
    problems = incomplete_testssl(0, cut, 25)
    assert any("no scanTime" in p for p in problems), problems
    assert any("vulnerabilities (-U)" in p for p in problems), problems
    assert any("forward secrecy (-f)" in p for p in problems), problems


@pytest.mark.parametrize("section", sorted(TESTSSL_SECTIONS))
def test_testssl_each_missing_section_is_named(section):
    problems = incomplete_testssl(0, _without(TESTSSL_25, *TESTSSL_SECTIONS[section]), 25)
    assert [p for p in problems if section in p], problems


def test_testssl_closed_port_empty_or_other_port_results_fail():
    closed = [{"id": "scanProblem", "ip": "", "port": "25", "severity": "FATAL", "finding": "Can't connect"},
              {"id": "scanTime", "ip": "", "port": "25", "severity": "WARN", "finding": "Scan interrupted"}]
    problems = incomplete_testssl(246, closed, 25)
    assert any("exit status 246" in p for p in problems)
    assert any("scan problem" in p for p in problems)
    assert any("interrupted" in p for p in problems)
    assert incomplete_testssl(0, [], 25)
    assert incomplete_testssl(0, "no JSON", 25)
    assert any("port 465" in p for p in incomplete_testssl(0, TESTSSL_25, 465))  # sections of another port


def test_testssl_https_port_needs_the_breach_verdict():
    assert incomplete_testssl(0, TESTSSL_25, 25) == []  # not HTTPS: no BREACH asked
    problems = incomplete_testssl(0, TESTSSL_25, 25, http=True)
    assert problems and "BREACH" in problems[0], problems
    footer = [f["id"] for f in TESTSSL_25].index("scanTime")
    breach = {"id": "BREACH", "ip": TESTSSL_25[0]["ip"], "port": "25", "severity": "OK",
              "finding": "not vulnerable, no HTTP compression  - only supplied \"/\" tested"}
    assert incomplete_testssl(0, TESTSSL_25[:footer] + [breach] + TESTSSL_25[footer:], 25, http=True) == []
    stalled = dict(breach, severity="WARN", finding="Test failed as HTTP response was empty")
    problems = incomplete_testssl(0, TESTSSL_25[:footer] + [stalled] + TESTSSL_25[footer:], 25, http=True)
    assert problems and "without a verdict" in problems[0] and "BREACH" in problems[0], problems


def test_testssl_protocol_or_cipher_without_a_verdict_fails():
    vague = copy.deepcopy(TESTSSL_25)
    for f in vague:
        if f["id"] == "TLS1_3":
            f.update(severity="WARN", finding="not tested due to lack of local support")
    problems = incomplete_testssl(0, vague, 25)
    assert problems and "TLS1_3" in problems[0], problems


# --- sslyze ---------------------------------------------------------------------------------

def _sslyze(port=25, **changes):
    attempts = {c: {"status": "COMPLETED", "error_reason": None, "error_trace": None, "result": {}}
                for c in SSLYZE_MOZILLA_COMMANDS}
    attempts["tls_1_3_cipher_suites"]["result"] = {
        "accepted_cipher_suites": [{"cipher_suite": {"name": "TLS_AES_256_GCM_SHA384"}}]}
    result = {"server_location": {"hostname": HOST, "port": port, "ip_address": "10.89.0.2"},
              "connectivity_status": "COMPLETED", "connectivity_error_trace": None,
              "scan_status": "COMPLETED", "scan_result": attempts}
    result.update(changes)
    return {"invalid_server_strings": [], "server_scan_results": [result]}


def test_sslyze_complete_scan_has_no_problem():
    assert incomplete_sslyze(_sslyze(), HOST, 25) == []


def test_sslyze_scan_command_in_error_or_not_run_fails():
    doc = _sslyze()
    doc["server_scan_results"][0]["scan_result"]["robot"] = {
        "status": "ERROR", "error_reason": "CONNECTIVITY_ISSUE", "error_trace": "timeout", "result": None}
    del doc["server_scan_results"][0]["scan_result"]["elliptic_curves"]
    problems = incomplete_sslyze(doc, HOST, 25)
    assert any(p.startswith("robot: ERROR CONNECTIVITY_ISSUE") for p in problems), problems
    assert any(p.startswith("elliptic_curves: missing") for p in problems), problems


def test_sslyze_closed_port_or_no_result_fails():
    closed = _sslyze(connectivity_status="ERROR", connectivity_error_trace="Connection refused",
                     scan_status="ERROR_NO_CONNECTIVITY", scan_result=None)
    problems = incomplete_sslyze(closed, HOST, 25)
    assert any("connectivity ERROR" in p for p in problems) and len(problems) > len(SSLYZE_MOZILLA_COMMANDS)
    assert incomplete_sslyze({"invalid_server_strings": [], "server_scan_results": []}, HOST, 25)
    assert incomplete_sslyze(_sslyze(port=465), HOST, 25)  # the result of another port
    assert incomplete_sslyze("no JSON: file not found", HOST, 25)


def test_sslyze_no_accepted_cipher_suite_fails():
    doc = _sslyze()
    doc["server_scan_results"][0]["scan_result"]["tls_1_3_cipher_suites"]["result"] = {"accepted_cipher_suites": []}
    assert incomplete_sslyze(doc, HOST, 25) == ["no cipher suite accepted in TLS 1.2 or 1.3"]


# --- ssh-audit ------------------------------------------------------------------------------

def _report():
    return {"banner": {"raw": "SSH-2.0-OpenSSH_10.0p2 Debian-7", "protocol": "2.0"},
            "target": "10.89.0.2:22",
            **{s: [{"algorithm": f"{s}-algorithm", "notes": {}}] for s in SSH_AUDIT_SECTIONS}}


VERDICT = {"host": "10.89.0.2", "port": 22, "policy": POLICY, "passed": True, "errors": [], "warnings": []}


def test_ssh_audit_both_documents_parsed_from_one_run():
    stdout = "\n".join([json.dumps(_report()), json.dumps(VERDICT)]) + "\n"
    report, verdict = ssh_audit_json(stdout)
    assert report == _report() and verdict == VERDICT
    assert incomplete_ssh_audit(report, verdict, POLICY) == []


@pytest.mark.parametrize("section", SSH_AUDIT_SECTIONS)
def test_ssh_audit_missing_or_empty_section_fails(section):
    missing, empty = _report(), _report()
    del missing[section]
    empty[section] = []
    assert incomplete_ssh_audit(missing, VERDICT, POLICY) == [f"audit report: section {section!r} missing or empty"]
    assert incomplete_ssh_audit(empty, VERDICT, POLICY) == [f"audit report: section {section!r} missing or empty"]


def test_ssh_audit_verdict_only_or_nothing_fails():
    report, verdict = ssh_audit_json(json.dumps(VERDICT) + "\n")  # what plain `ssh-audit -j -P` prints
    assert report is None
    assert incomplete_ssh_audit(report, verdict, POLICY) == ["no audit report"]
    report, verdict = ssh_audit_json("[exception] cannot connect to 10.89.0.2 port 22\n")
    assert incomplete_ssh_audit(report, verdict, POLICY) == ["no audit report", "no policy verdict"]
    assert incomplete_ssh_audit(_report(), dict(VERDICT, policy="Hardened Debian 12 (version 3)"), POLICY)


# --- lynis ----------------------------------------------------------------------------------

LYNIS_REPORT = """\
# Lynis Report
report_version_major=1
report_datetime_start=2026-12-03 15:01:02
warning[]=PKGS-7388|Security repository not found|-|-|
lynis_tests_done=231
report_datetime_end=2026-12-03 15:02:10
hardening_index=78
tests_executed=ACCT-9622|AUTH-9208|
tests_skipped=
finish=true
"""


def test_lynis_finished_report_has_no_problem():
    assert incomplete_lynis(LYNIS_REPORT, 150) == []


def test_lynis_cut_short_report_fails():
    head = LYNIS_REPORT[:LYNIS_REPORT.index("lynis_tests_done")]  # stopped in the middle of the tests
    problems = incomplete_lynis(head, 150)
    assert "report.dat has no hardening_index=" in problems and "report.dat has no finish=" in problems
    assert incomplete_lynis("", 150)
    assert incomplete_lynis(LYNIS_REPORT.replace("lynis_tests_done=231", "lynis_tests_done=12"), 150) == [
        "lynis_tests_done=12, expected at least 150"]


def test_sslyze_scans_again_only_after_its_own_errors(monkeypatch, tmp_path):
    """run_sslyze: a scan command in ERROR (sslyze's connection timed out under load) is no
    verdict, so the scan runs once more (slowly) and that run is judged; any other problem
    (a missing command, no cipher accepted, a non-compliant server) is judged at once."""
    from tests.helpers import scanners

    calls = []

    def fake(results):
        def once(target, port, json_out, starttls, slow=False):
            calls.append(slow)
            return scanners.SslyzeRun(results[len(calls) - 1], "out", 0, HOST, port)
        return once

    monkeypatch.setattr(scanners, "_sslyze_once", fake([["tls_1_0_cipher_suites: ERROR BUG_IN_SSLYZE"], []]))
    run = scanners.run_sslyze(None, 25, tmp_path / "s.json", "smtp")
    assert calls == [False, True] and run.problems == [] and "ERROR BUG_IN_SSLYZE" in run.stdout
    calls.clear()
    monkeypatch.setattr(scanners, "_sslyze_once", fake([["no cipher suite accepted in TLS 1.2 or 1.3"], []]))
    assert scanners.run_sslyze(None, 25, tmp_path / "s.json").problems and calls == [False]
    calls.clear()
    errors = ["robot: ERROR BUG_IN_SSLYZE"]
    monkeypatch.setattr(scanners, "_sslyze_once", fake([errors, errors]))
    assert scanners.run_sslyze(None, 25, tmp_path / "s.json").problems == errors and calls == [False, True]
