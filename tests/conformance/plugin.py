"""pytest plugin: ties test results to the conformance catalogue and writes
the per-host conformance report (Markdown, Vietnamese and English) plus JUnit
XML for CI systems.

Load it from a conftest with `from tests.conformance.plugin import *`.
Tests declare what they prove with `@pytest.mark.control("SMTP-02", ...)` and
may record evidence (a reply code, a config value, a scanner verdict) with the
`evidence` fixture: `evidence("RCPT to outside: 554 5.7.1 Relay access denied")`.

Reports go to reports/conformance/<run>/<host>.md and <run>.junit.xml, where
<run> is the Molecule scenario (or $MAIL_CONFORMANCE_RUN, e.g. "audit").
"""

from __future__ import annotations

import datetime as _dt
import os
from collections import defaultdict

import pytest

from tests.conformance.catalogue import ROOT, catalogue

__all__ = ["pytest_configure", "pytest_collection_modifyitems", "pytest_runtest_makereport",
           "pytest_runtest_logreport", "pytest_sessionfinish", "pytest_terminal_summary", "evidence"]

_RESULTS_KEY = pytest.StashKey[list]()
_CONFIG: list = []  # the session's config, for pytest_runtest_logreport (which is not handed it)
_VERDICT = {"pass": "ĐẠT / PASS", "fail": "KHÔNG ĐẠT / FAIL", "n/a": "KHÔNG ÁP DỤNG / N/A"}


def _run_name() -> str:
    return os.environ.get("MAIL_CONFORMANCE_RUN") or os.environ.get("MOLECULE_SCENARIO_NAME") or "local"


def _report_dir():
    return ROOT / "reports" / "conformance" / _run_name()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "control(*ids): conformance controls this test proves "
                                       "(tests/conformance/controls/*.yml)")
    config.stash[_RESULTS_KEY] = []
    _CONFIG[:] = [config]
    if getattr(config.option, "xmlpath", None) is None and hasattr(config.option, "xmlpath"):
        _report_dir().mkdir(parents=True, exist_ok=True)
        config.option.xmlpath = str(_report_dir() / "junit.xml")


def pytest_collection_modifyitems(session, config, items):
    known = catalogue()
    unknown = sorted({cid for item in items for mark in item.iter_markers("control") for cid in mark.args
                      if cid not in known})
    if unknown:
        raise pytest.UsageError(f"tests name controls that are not in tests/conformance/controls: {unknown}")


@pytest.fixture
def evidence(request):
    """Record a line of evidence for the conformance report (and the JUnit XML)."""
    def add(text: str) -> None:
        request.node.user_properties.append(("evidence", str(text)))
    return add


def _host_of(item) -> str:
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for key in ("mail", "host_name", "store"):
            if key in callspec.params:
                return str(callspec.params[key])
    # A scenario whose tests are not parametrised by host names the host its
    # tests are about (molecule/edge: our mail host).
    return os.environ.get("MAIL_CONFORMANCE_HOST", "controller")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    ids = [cid for mark in item.iter_markers("control") for cid in mark.args]
    if not ids:
        return
    if report.when == "call" or (report.when == "setup" and (report.failed or report.skipped)):
        if report.when == "call":
            for cid in ids:
                item.user_properties.append(("control", cid))
        if report.passed:
            state, why = "pass", ""
        elif report.skipped:
            state = "n/a"
            why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        else:
            state = "fail"
            why = getattr(report.longrepr, "reprcrash", None)
            why = why.message if why is not None else str(report.longrepr)[-300:]
        evid = [v for k, v in item.user_properties if k == "evidence"]
        # On the report itself: under pytest-xdist the report travels from the worker
        # that ran the test to the controller, which alone writes the conformance report.
        report.conformance_row = {
            "host": _host_of(item), "test": item.nodeid.split("::", 1)[-1], "controls": ids,
            "state": state, "why": " ".join(str(why).split())[:400], "evidence": evid,
            "doc": (item.obj.__doc__ or "").strip().split("\n")[0] if getattr(item, "obj", None) else "",
        }


def pytest_runtest_logreport(report):
    row = getattr(report, "conformance_row", None)
    if row and _CONFIG:
        _CONFIG[0].stash[_RESULTS_KEY].append(row)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_reports(results: list[dict], run: str) -> list:
    controls = catalogue()
    by_host: dict[str, list[dict]] = defaultdict(list)
    for r in sorted(results, key=lambda r: r["test"]):  # the same order however the tests were spread
        by_host[r["host"]].append(r)
    written = []
    out = ROOT / "reports" / "conformance" / run
    out.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    for host, rows in sorted(by_host.items()):
        per: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            for cid in r["controls"]:
                per[cid].append(r)
        lines, counts = [], {"pass": 0, "fail": 0, "n/a": 0}
        for cid, control in controls.items():
            got = per.get(cid, [])
            if any(r["state"] == "fail" for r in got):
                state = "fail"
            elif any(r["state"] == "pass" for r in got):
                state = "pass"
            else:
                state = "n/a"
            counts[state] += 1
            if got:
                detail = "; ".join(
                    f"{r['test']}: {r['state']}"
                    + (f" ({r['why']})" if r["why"] and r["state"] != "pass" else "")
                    + (f" [{'; '.join(r['evidence'])}]" if r["evidence"] else "")
                    for r in got)
            else:
                elsewhere = sorted({t.split("::")[0] for t in control.tests})
                why_na = ("ngoài phạm vi kiểm tra chỉ đọc / outside the read-only audit" if run == "audit"
                          else "không kiểm trong lần chạy này / not checked in this run")
                detail = f"{why_na}; proven by " + (", ".join(elsewhere) or "no test")
            lines.append(f"| {cid} | {_cell(control.title_vi)}<br>{_cell(control.title_en)} | "
                         f"{_cell(', '.join(control.source))} | **{_VERDICT[state]}** | "
                         f"{_cell(control.how)}<br>{_cell(detail)} |")
        text = "\n".join([
            f"# Báo cáo tuân thủ / Conformance report — {host}",
            "",
            f"- Lần chạy / Run: `{run}` — {now}",
            f"- Kết quả / Result: ĐẠT/PASS {counts['pass']}, KHÔNG ĐẠT/FAIL {counts['fail']}, "
            f"KHÔNG ÁP DỤNG/N/A {counts['n/a']} (của {len(controls)} biện pháp / of {len(controls)} controls)",
            "- Nguồn / Sources: R1–R12 = yêu cầu của hệ thống (MISSION.md, Quy chế thư điện tử công vụ Gia Lai); "
            "Mozilla TLS, CIS Debian, dev-sec, NIST SP 800-45/800-177.",
            "",
            "| Mã / ID | Biện pháp / Control | Nguồn / Source | Kết quả / Result | Cách kiểm và bằng chứng / Method and evidence |",
            "|---|---|---|---|---|",
            *lines, ""])
        path = out / f"{host}.md"
        path.write_text(text, encoding="utf-8")
        written.append((path, counts))
    return written


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: the controller writes the report
    results = session.config.stash.get(_RESULTS_KEY, [])
    if results:
        session.config._conformance_written = write_reports(results, _run_name())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    written = getattr(config, "_conformance_written", [])
    if written:
        terminalreporter.section("conformance report / báo cáo tuân thủ")
        for path, counts in written:
            terminalreporter.write_line(
                f"{path.relative_to(ROOT)}: pass {counts['pass']}, fail {counts['fail']}, n/a {counts['n/a']}")
