"""Figures of the independent scanners, per host: reports/scanners-<host>.txt.

molecule/default/tests/conftest.py prints them at the end of verify.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from dataclasses import dataclass

from .lab import ROOT

REPORTS = ROOT / "reports"


def record(mail, key: str, value) -> None:
    """Write (or replace) the line `key: value` in the host's scanner figures."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"scanners-{mail.name}.txt"
    lines = [line for line in (path.read_text().splitlines() if path.exists() else []) if not line.startswith(key + ":")]
    lines.append(f"{key}: {value}")
    path.write_text("\n".join(sorted(lines)) + "\n")


# --- Completeness: a scanner that stopped early must not pass ------------------------------
# Each function takes what one scanner wrote and returns what is missing or broken in
# it ([] = the scan ran to its end). They judge the form of the result, not the verdict:
# the tests assert both. tests/unit/test_scanner_completeness.py feeds them cut-down results.

# testssl.sh 3.0.8 JSON ids (--jsonfile) of the sections that `-p -s -f -S -U` ask for.
TESTSSL_SECTIONS = {
    "protocols (-p)": ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"],
    "cipher categories (-s)": ["cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
                               "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "cipherlist_STRONG"],
    "forward secrecy (-f)": ["PFS"],
    "server defaults (-S)": ["cert_subjectAltName", "cert_notAfter"],
    "vulnerabilities (-U)": ["heartbleed", "CCS", "ROBOT", "secure_renego", "CRIME_TLS", "POODLE_SSL",
                             "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4"],
}
# On an HTTPS port testssl.sh also asks the page for HTTP compression (BREACH, part of -U).
TESTSSL_HTTP_SECTIONS = {"HTTP compression (BREACH, -U)": ["BREACH"]}
# Sections whose verdict must be a definite one (not a WARN such as "couldn't be tested").
TESTSSL_DEFINITE = ("protocols (-p)", "cipher categories (-s)", "forward secrecy (-f)")
# testssl.sh's exit status (man testssl, EXIT STATUS): 0 or 1+n (n ambiguous results or errors
# during the run) means it ran to its end; 242..255 are its ERR_* aborts (connect, DNS, openssl,
# command line, ...). A complete scan of the lab exits 7 or 8 (its cipher-list and session
# checks add to the count), so the status alone cannot say "complete": the JSON must.
TESTSSL_ERR_MIN = 242


def incomplete_testssl(returncode: int, findings: list, port: int, http: bool = False) -> list[str]:
    """What is missing from one testssl.sh run against `port` (its --jsonfile, parsed).
    http: the port serves HTTPS, so the BREACH check must be there too, with a verdict."""
    problems = []
    if returncode >= TESTSSL_ERR_MIN:
        problems.append(f"testssl.sh aborted with exit status {returncode} (ERR_*, see man testssl)")
    if not isinstance(findings, list):
        return problems + ["the JSON file is not a list of findings"]
    for f in findings:
        if f.get("id") == "scanProblem" or f.get("severity") == "FATAL":
            problems.append(f"scan problem: {f.get('id')} {f.get('severity')} {f.get('finding')}")
    end = [f for f in findings if f.get("id") == "scanTime"]
    if not end:
        problems.append("no scanTime entry: testssl.sh did not write its footer (killed or crashed)")
    elif not str(end[-1].get("finding", "")).isdigit():
        problems.append(f"scanTime says {end[-1].get('finding')!r}: the scan was interrupted")
    here = {}
    for f in findings:
        if str(f.get("port")) == str(port):
            here.setdefault(f.get("id"), f)
    sections = {**TESTSSL_SECTIONS, **(TESTSSL_HTTP_SECTIONS if http else {})}
    for section, ids in sections.items():
        missing = [i for i in ids if i not in here]
        if missing:
            problems.append(f"port {port}: {section} missing {missing}")
        elif section in TESTSSL_DEFINITE or section in TESTSSL_HTTP_SECTIONS:
            vague = [i for i in ids if here[i].get("severity") in ("WARN", "FATAL")]
            if vague:
                problems.append(f"port {port}: {section} without a verdict: "
                                f"{[(i, here[i].get('finding')) for i in vague]}")
    return problems


# testssl.sh findings about the certificate's trust that come from the lab's own CA
# (not in any public trust store, publishing no CRL or OCSP responder: cert_revocation
# "Neither CRL nor OCSP URI provided", HIGH) and from the lab having no DNS/OCSP/CT: excepted by name.
TESTSSL_EXCEPTED = {"cert_revocation", "cert_chain_of_trust", "cert_trust", "cert_caIssuers", "cert_ocspURL",
                    "OCSP_stapling", "cert_crlDistributionPoints", "DNS_CAArecord", "cert_certificateTransparency"}


def _scanner_json(path) -> tuple[object, Exception | None]:
    """A scanner's JSON report: (document, None), or (None, the error) when there is no file or
    it is no JSON (a scan cut off before its footer)."""
    try:
        return json.loads(path.read_text()), None
    except (OSError, ValueError) as e:
        return None, e


def run_testssl(target, hostname: str, port: int, json_out, starttls: str | None = None) -> tuple[int, int, list | None]:
    """One testssl.sh 3.0.8 run (-p -s -f -S -U: protocols, cipher categories, forward secrecy,
    server defaults, vulnerabilities, with BREACH on an HTTPS port) against hostname:port dialled
    at target's address, the lab CA added: (port, exit status, the JSON findings or None if the
    file is no JSON)."""
    cmd = ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "min", "--add-ca", target.cafile,
           "--ip", target.address, "--jsonfile", str(json_out), "-p", "-s", "-f", "-S", "-U"]
    if starttls:
        cmd += ["--starttls", starttls]
    cmd.append(f"{hostname}:{port}")
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    findings, _ = _scanner_json(json_out)
    return port, run.returncode, findings


def severe_testssl_findings(results) -> tuple[list, set]:
    """The HIGH/CRITICAL findings of testssl.sh runs [(port, exit status, findings)]:
    (those that count [(port, id, severity, finding)], the ids excepted as the lab CA's)."""
    bad, excepted = [], set()
    for port, _rc, findings in results:
        for f in findings or []:
            if f.get("severity") in ("HIGH", "CRITICAL"):
                if f["id"] in TESTSSL_EXCEPTED:
                    excepted.add(f["id"])
                else:
                    bad.append((port, f["id"], f["severity"], f.get("finding")))
    return bad, excepted


# The scan commands sslyze 6.3.1 runs for --mozilla_config (SCAN_COMMANDS_NEEDED_BY_MOZILLA_CHECKER).
SSLYZE_MOZILLA_COMMANDS = [
    "ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites", "tls_1_0_cipher_suites", "tls_1_1_cipher_suites",
    "tls_1_2_cipher_suites", "tls_1_3_cipher_suites", "heartbleed", "robot", "openssl_ccs_injection",
    "tls_fallback_scsv", "tls_compression", "session_renegotiation", "certificate_info", "elliptic_curves",
    "tls_extended_master_secret",
]


def incomplete_sslyze(doc, hostname: str, port: int, commands=SSLYZE_MOZILLA_COMMANDS) -> list[str]:
    """What is missing from one sslyze --json_out document for hostname:port."""
    if not isinstance(doc, dict):
        return ["the JSON output is not an object"]
    problems = [f"invalid server string: {bad}" for bad in doc.get("invalid_server_strings") or []]
    results = [r for r in doc.get("server_scan_results") or []
               if (r.get("server_location") or {}).get("hostname") == hostname
               and (r.get("server_location") or {}).get("port") == port]
    if len(results) != 1:
        return problems + [f"{len(results)} scan results for {hostname}:{port} (expected 1)"]
    result = results[0]
    if result.get("connectivity_status") != "COMPLETED":
        problems.append(f"connectivity {result.get('connectivity_status')}: {result.get('connectivity_error_trace')}")
    if result.get("scan_status") != "COMPLETED":
        problems.append(f"scan status {result.get('scan_status')}")
    attempts = result.get("scan_result") or {}
    for command in commands:
        attempt = attempts.get(command) or {}
        if attempt.get("status") != "COMPLETED" or attempt.get("result") is None:
            problems.append(f"{command}: {attempt.get('status', 'missing')} "
                            f"{attempt.get('error_reason') or ''}".rstrip())
    # The handshakes happened: TLS 1.2 or 1.3 accepted at least one cipher suite.
    accepted = [s for v in ("tls_1_2_cipher_suites", "tls_1_3_cipher_suites")
                for s in ((attempts.get(v) or {}).get("result") or {}).get("accepted_cipher_suites") or []]
    if not accepted and not problems:
        problems.append("no cipher suite accepted in TLS 1.2 or 1.3")
    return problems


# ssh-audit 3.9.0 JSON (standard audit): the algorithm sections a complete report has.
SSH_AUDIT_SECTIONS = ("kex", "key", "enc", "mac")


def ssh_audit_json(stdout: str) -> tuple[dict | None, dict | None]:
    """The audit report and the policy verdict that tests/helpers/ssh_audit_both.py printed."""
    docs = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            try:
                docs.append(json.loads(line))
            except ValueError:
                pass
    report = next((d for d in docs if "kex" in d or "banner" in d), None)
    verdict = next((d for d in docs if "passed" in d), None)
    return report, verdict


def incomplete_ssh_audit(report, verdict, policy: str) -> list[str]:
    """What is missing from ssh-audit's JSON audit report and its JSON policy verdict of one run."""
    problems = []
    if not isinstance(report, dict):
        problems.append("no audit report")
    else:
        for section in SSH_AUDIT_SECTIONS:
            algorithms = report.get(section)
            if not algorithms or not all(isinstance(a, dict) and a.get("algorithm") for a in algorithms):
                problems.append(f"audit report: section {section!r} missing or empty")
        if not (report.get("banner") or {}).get("raw", "").startswith("SSH-2.0-"):
            problems.append("audit report: no SSH-2.0 banner")
    if not isinstance(verdict, dict):
        problems.append("no policy verdict")
    else:
        if verdict.get("policy") != policy:
            problems.append(f"policy verdict for {verdict.get('policy')!r}, not {policy!r}")
        if not isinstance(verdict.get("passed"), bool) or not isinstance(verdict.get("errors"), list):
            problems.append("policy verdict without passed/errors")
    return problems


LYNIS_REQUIRED = ("report_datetime_start", "lynis_tests_done", "hardening_index", "report_datetime_end",
                  "tests_executed", "finish")


def incomplete_lynis(report: str, min_tests: int) -> list[str]:
    """What is missing from a lynis report.dat: it finished, and ran at least min_tests tests."""
    keys = {}
    for line in report.splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.endswith("[]"):
            keys[key] = value
    problems = [f"report.dat has no {key}=" for key in LYNIS_REQUIRED if key not in keys]
    if keys.get("finish", "true") != "true":
        problems.append(f"finish={keys['finish']}")
    done = keys.get("lynis_tests_done", "")
    if done and (not done.isdigit() or int(done) < min_tests):
        problems.append(f"lynis_tests_done={done}, expected at least {min_tests}")
    if "hardening_index" in keys and not keys["hardening_index"].isdigit():
        problems.append(f"hardening_index={keys['hardening_index']!r}")
    return problems


# --- One sslyze run (TLS-01, WEB-01): the command, its JSON and what is missing from it ----

SSLYZE = ROOT / ".venv-sslyze" / "bin" / "sslyze"


@dataclass
class SslyzeRun:
    problems: list  # incomplete_sslyze of its JSON ([] = every scan command completed)
    stdout: str
    returncode: int
    hostname: str
    scanned: int  # the port sslyze dialled (the relay's for ManageSieve)

    @property
    def compliant(self) -> bool:
        return f"{self.hostname}:{self.scanned}: OK - Compliant" in self.stdout


def run_sslyze(target, port: int, json_out, starttls: str | None = None) -> SslyzeRun:
    """sslyze --mozilla_config intermediate against target (its name, dialled at its address).
    starttls "sieve": sslyze 6 knows no ManageSieve, so it dials a local relay that says
    STARTTLS to `port` first (tests/helpers/managesieve.py) and judges the handshake after it.

    A scan command that ended in ERROR (sslyze's own connection timed out: the machine under
    the whole suite's load) is no verdict on the server: the scan runs once more, with
    --slow_connection, and that run is judged; its output keeps the first run's errors."""
    first = _sslyze_once(target, port, json_out, starttls)
    if not first.problems or not all(": ERROR" in p for p in first.problems):
        return first
    again = _sslyze_once(target, port, json_out, starttls, slow=True)
    again.stdout = f"(first scan, errors: {first.problems}; scanned again with --slow_connection)\n{again.stdout}"
    return again


def _sslyze_once(target, port: int, json_out, starttls: str | None, slow: bool = False) -> SslyzeRun:
    from .managesieve import starttls_relay

    cmd = [str(SSLYZE), "--mozilla_config", "intermediate", "--certinfo_ca_file", target.cafile,
           "--json_out", str(json_out)] + (["--slow_connection"] if slow else [])
    with contextlib.ExitStack() as stack:
        scanned, address = port, target.address
        if starttls == "sieve":
            scanned, address = stack.enter_context(starttls_relay(target, port)), "127.0.0.1"
        elif starttls:
            cmd += ["--starttls", starttls]
        cmd.append(f"{target.hostname}:{scanned}{{{address}}}")
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    doc, error = _scanner_json(json_out)
    if error:
        doc = f"no JSON: {error}"
    return SslyzeRun(incomplete_sslyze(doc, target.hostname, scanned), result.stdout, result.returncode,
                     target.hostname, scanned)
