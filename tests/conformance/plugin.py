"""pytest plugin: ties test results to the conformance catalogue and writes
the per-host conformance report (Markdown, Vietnamese and English), its
machine-readable twin results.json, and JUnit XML for CI systems.

Load it from a conftest with `from tests.conformance.plugin import *`.
Tests declare what they prove with `@pytest.mark.control("SMTP-02", ...)` and
may record evidence (a reply code, a config value, a scanner verdict) with the
`evidence` fixture: `evidence("RCPT to outside: 554 5.7.1 Relay access denied")`.

Reports go to reports/conformance/<run>/<host>.md, results.json and junit.xml,
where <run> is the Molecule scenario (or $MAIL_CONFORMANCE_RUN: unit,
preflight, audit). The directory is emptied when the run starts, so no host
report of an earlier run survives. scripts/conformance-report.py merges every
run's results.json into reports/conformance/REPORT.md and REPORT.html.

Verdicts (what an auditor signs against; the report never says more than the
run showed):

- ĐẠT / PASS: every test of the control that this suite runs on this host ran,
  and its setup, call and teardown all passed. One passing test does not
  outweigh a skipped one: the skipped one proves nothing, so the control is
  not shown to hold.
- KHÔNG ĐẠT / FAIL: any of those tests failed or errored, in any phase (a
  teardown error is a failure: the test's own clean-up or check broke).
- CHƯA CHỨNG MINH / NOT PROVEN: none failed, but at least one did not prove
  anything: skipped, xfailed, xpassed, deselected, never run (the session
  stopped), or a `def test_*` of this suite carrying the marker that pytest
  never collected (nested in a helper, misnamed class). XPASS counts here and
  not as PASS: `xfail` is the author saying the result is not to be trusted;
  a test that passes while so marked proves nothing stable, and a non-strict
  xpass does not even fail pytest's run. (A strict xpass is a pytest failure
  and so FAIL.) NOT PROVEN makes the pytest run exit non-zero, with a
  terminal section naming each control and host, unless the catalogue
  declares the control not applicable to that host.
- KHÔNG ÁP DỤNG / N/A: only where the control's `not_applicable:` entry in
  tests/conformance/controls/*.yml matches the host (by name, by an inventory
  group, or by not being in any of the named groups); the report prints the
  declared reason in both languages. A declared control whose tests did run
  is judged on them (a test that ran and passed is a PASS; one that failed is
  a FAIL); the declaration only answers for tests that proved nothing.
- NGOÀI LẦN CHẠY NÀY / NOT IN THIS RUN (not a verdict, never counted as a
  pass): the control's tests belong to another suite (the report names the
  Molecule scenario or make target that runs them and points to the
  consolidated report), to another host of this run (the edge partner's
  half of a parametrised test), or are outside the run's own declared scope
  (the read-only audit, which runs only tests/audit: `declare_scope()`).

Rows carry evidence only from tests whose host (see _host_of) is the report's
host: a test about the edge partner lands in the partner's report, never in
our host's.

Lab switches: a control whose production behaviour the lab switches off names
the variables in the catalogue (`lab_switches:`, production value = the role
default). Next to its verdict on a host whose inventory sets another value the
report says so, e.g. "ĐẠT / PASS (lab: hardening_sysctl_apply=false — production
path not run here)": the test passed, but not on production's path. The host's
values come from its inventory: Molecule's (`ansible-inventory --list` on
MOLECULE_INVENTORY_FILE) or what playbooks/audit.yml passes
(MAIL_AUDIT_HOSTVARS[host].switches). A host whose inventory is unknown (the
controller of the unit and preflight suites) gets no mark.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import pathlib
import shutil
import subprocess
from collections import defaultdict

import pytest

from tests.helpers.inventory import group_map
from tests.conformance.catalogue import (ROOT, catalogue, production_values, runs_of_suites, scan_file, suite_of,
                                         test_files)

__all__ = ["pytest_configure", "pytest_collection_modifyitems", "pytest_collection_finish", "pytest_deselected",
           "pytest_runtest_makereport", "pytest_runtest_logreport", "pytest_testnodedown", "pytest_sessionfinish",
           "pytest_terminal_summary", "evidence"]

_STATE_KEY = pytest.StashKey[dict]()
_CONFIG: list = []  # the session's config, for pytest_runtest_logreport (which is not handed it)

PASS, FAIL, NOT_PROVEN, NA, ELSEWHERE = "pass", "fail", "not_proven", "n/a", "elsewhere"
STATES = (PASS, FAIL, NOT_PROVEN, NA, ELSEWHERE)
LABEL = {PASS: "ĐẠT / PASS", FAIL: "KHÔNG ĐẠT / FAIL", NOT_PROVEN: "CHƯA CHỨNG MINH / NOT PROVEN",
         NA: "KHÔNG ÁP DỤNG / N/A", ELSEWHERE: "NGOÀI LẦN CHẠY NÀY / NOT IN THIS RUN"}
SHORT = {PASS: "ĐẠT/PASS", FAIL: "KHÔNG ĐẠT/FAIL", NOT_PROVEN: "CHƯA CHỨNG MINH/NOT PROVEN",
         NA: "KHÔNG ÁP DỤNG/N/A", ELSEWHERE: "NGOÀI LẦN CHẠY NÀY/NOT IN THIS RUN"}
PHASES = ("setup", "call", "teardown")


def _run_name() -> str:
    return os.environ.get("MAIL_CONFORMANCE_RUN") or os.environ.get("MOLECULE_SCENARIO_NAME") or "local"


def reports_root() -> pathlib.Path:
    """reports/conformance ($MAIL_CONFORMANCE_REPORTS for the plugin's own tests)."""
    return pathlib.Path(os.environ.get("MAIL_CONFORMANCE_REPORTS") or ROOT / "reports" / "conformance")


def _report_dir() -> pathlib.Path:
    return reports_root() / _run_name()


def _state(config) -> dict:
    return config.stash.setdefault(_STATE_KEY, {
        "phases": defaultdict(dict),  # nodeid -> when -> phase row (controller)
        "expected": {},               # nodeid -> {host, controls, key, test}: collected and deselected items
        "collected_keys": set(),      # (file, function) of every collected item, deselected ones included
        "deselected": set(),          # nodeids
        "scope": None,                # {"en", "vi"}: the run's declared scope (declare_scope)
    })


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _writes_reports(config) -> bool:
    return not _is_worker(config) and not config.option.collectonly


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "mail_groups(*groups): tests/audit checks that apply only to hosts of "
                            "these inventory groups (tests/audit/conftest.py)")
    config.addinivalue_line("markers", "control(*ids): conformance controls this test proves "
                                       "(tests/conformance/controls/*.yml)")
    _state(config)
    _CONFIG[:] = [config]
    if _writes_reports(config):
        # Each run starts from an empty directory: no host report of an earlier run survives.
        out = _report_dir()
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        if hasattr(config.option, "xmlpath") and getattr(config.option, "xmlpath", None) is None:
            config.option.xmlpath = str(out / "junit.xml")


def pytest_collection_modifyitems(session, config, items):
    known = catalogue()
    unknown = sorted({cid for item in items for mark in item.iter_markers("control") for cid in mark.args
                      if cid not in known})
    if unknown:
        raise pytest.UsageError(f"tests name controls that are not in tests/conformance/controls: {unknown}")


def declare_scope(config, reason_en: str, reason_vi: str) -> None:
    """Declare this run a part of the catalogue by design (the read-only audit runs only
    tests/audit): a control whose tests all belong to other suites shows NOT IN THIS RUN
    with the reason, instead of pointing to the suites and scenarios that run them."""
    _state(config)["scope"] = {"en": reason_en, "vi": reason_vi}


def _controls(item) -> list[str]:
    return [cid for mark in item.iter_markers("control") for cid in mark.args]


def _host_of(item) -> str:
    """The host a test is about: a `conformance_host` user property (set by a scenario's
    conftest, e.g. the edge partner's half of a parametrised test), the `mail`/`host_name`/
    `store` parameter, else $MAIL_CONFORMANCE_HOST (the host a scenario's unparametrised
    tests are about), else the controller."""
    for key, value in getattr(item, "user_properties", []):
        if key == "conformance_host":
            return str(value)
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        for key in ("mail", "host_name", "store"):
            if key in callspec.params:
                return str(callspec.params[key])
    return os.environ.get("MAIL_CONFORMANCE_HOST", "controller")


def _item_entry(item) -> dict:
    return {"host": _host_of(item), "controls": _controls(item), "test": item.nodeid,
            "key": [str(item.path), getattr(item, "originalname", item.name)]}


def pytest_deselected(items):
    if _CONFIG:
        state = _state(_CONFIG[0])
        for item in items:
            if _controls(item):
                state["deselected"].add(item.nodeid)
                state["expected"][item.nodeid] = _item_entry(item)
            state["collected_keys"].add((str(item.path), getattr(item, "originalname", item.name)))


def pytest_collection_finish(session):
    """Record what was collected (the controller's record of what should run). Under
    pytest-xdist a worker collects, and sends the record to the controller when it ends."""
    state = _state(session.config)
    for item in session.items:
        state["collected_keys"].add((str(item.path), getattr(item, "originalname", item.name)))
        if _controls(item):
            state["expected"][item.nodeid] = _item_entry(item)
    if os.environ.get("MAIL_CONFORMANCE_COLLECTED") and not _is_worker(session.config):
        _write_collected(session, pathlib.Path(os.environ["MAIL_CONFORMANCE_COLLECTED"]))
    if _is_worker(session.config):
        session.config.workeroutput["conformance"] = {
            "expected": state["expected"], "collected_keys": sorted(state["collected_keys"]),
            "deselected": sorted(state["deselected"])}


def _write_collected(session, path: pathlib.Path) -> None:
    """What this suite proves before anything runs (tests/unit/test_conformance.py): every
    collected item with its controls and whether a skip/skipif or xfail mark already rules
    it out; and every marked `def test_*` of the suite's files that pytest did not collect."""
    from _pytest.skipping import evaluate_skip_marks, evaluate_xfail_marks
    items = []
    for item in session.items:
        if _controls(item):
            skip, xfail = evaluate_skip_marks(item), evaluate_xfail_marks(item)
            items.append({**_item_entry(item), "skip": skip.reason if skip else None,
                          "xfail": (xfail.reason or "xfail") if xfail else None})
    state = _state(session.config)
    uncollected = [{"test": f"{os.path.relpath(f, session.config.rootpath)}::{name}", "controls": ids}
                   for base in _suite_dirs(session.config) for f in test_files(base)
                   for name, ids in scan_file(f).items() if (str(f), name) not in state["collected_keys"]]
    path.write_text(json.dumps({"items": items, "uncollected": uncollected}, indent=1), encoding="utf-8")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: merge a worker's collection record into the controller's."""
    got = getattr(node, "workeroutput", {}).get("conformance")
    if got and _CONFIG:
        state = _state(_CONFIG[0])
        state["expected"].update(got["expected"])
        state["collected_keys"].update(tuple(k) for k in got["collected_keys"])
        state["deselected"].update(got["deselected"])


@pytest.fixture
def evidence(request):
    """Record a line of evidence for the conformance report (and the JUnit XML)."""
    def add(text: str) -> None:
        request.node.user_properties.append(("evidence", str(text)))
    return add


def _why(report) -> str:
    if report.skipped:
        text = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        text = str(text).removeprefix("Skipped: ")
    else:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash is not None else str(report.longrepr)[-300:]
    return " ".join(str(text).split())[:400]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    ids = _controls(item)
    if not ids:
        return report
    if report.when == "setup":  # JUnit XML: each test case carries its `control` properties
        item.user_properties.extend(("control", cid) for cid in ids)
    wasxfail = getattr(report, "wasxfail", None)
    if report.failed:
        outcome, why = "failed", _why(report)
    elif report.skipped and wasxfail is not None:
        outcome, why = "xfailed", f"xfail: {wasxfail or 'expected to fail'}"
    elif report.skipped:
        outcome, why = "skipped", _why(report)
    elif wasxfail is not None:
        outcome, why = "xpassed", f"XPASS of a test marked xfail ({wasxfail or 'no reason'}): not trusted as proof"
    else:
        outcome, why = "passed", ""
    # On the report itself: under pytest-xdist the report travels from the worker
    # that ran the test to the controller, which alone writes the conformance report.
    report.conformance_row = {
        "when": report.when, "outcome": outcome, "why": why,
        "evidence": [str(v) for k, v in item.user_properties if k == "evidence"],
        "doc": (item.obj.__doc__ or "").strip().split("\n")[0] if getattr(item, "obj", None) else "",
        **_item_entry(item)}
    return report


def pytest_runtest_logreport(report):
    row = getattr(report, "conformance_row", None)
    if row and _CONFIG:
        _state(_CONFIG[0])["phases"][report.nodeid][row["when"]] = row


def _item_result(nodeid: str, phases: dict, expected: dict, deselected: bool) -> dict:
    """One test's result on its host, from its phases (setup, call, teardown)."""
    first = next(iter(phases.values()), None) or expected
    row = {"test": first["test"], "host": first["host"], "controls": first["controls"], "doc": first.get("doc", ""),
           "evidence": max((p["evidence"] for p in phases.values()), key=len, default=[]),
           "phases": {w: phases[w]["outcome"] for w in PHASES if w in phases}}
    failed = [w for w in PHASES if w in phases and phases[w]["outcome"] == "failed"]
    unproven = [w for w in PHASES if w in phases and phases[w]["outcome"] in ("skipped", "xfailed", "xpassed")]
    if failed:
        label = {"setup": "setup error", "call": "failed", "teardown": "teardown error"}
        row.update(state=FAIL, why="; ".join(f"{label[w]}: {phases[w]['why']}" for w in failed))
    elif unproven:
        row.update(state=NOT_PROVEN, why="; ".join(f"{phases[w]['outcome']} ({w}): {phases[w]['why']}"
                                                   for w in unproven))
    elif not phases:
        row.update(state=NOT_PROVEN, why="deselected: never ran" if deselected else "collected but never ran")
    elif all(w in phases for w in PHASES):
        row.update(state=PASS, why="")
    else:
        missing = [w for w in PHASES if w not in phases]
        row.update(state=NOT_PROVEN, why=f"did not complete (no {', '.join(missing)})")
    return row


def _inventory_groups() -> dict[str, set[str]]:
    """Each host's inventory groups: Molecule's inventory (MOLECULE_INVENTORY_FILE, all.children
    nested), or what playbooks/audit.yml passes (MAIL_AUDIT_HOSTVARS[host].groups)."""
    groups: dict[str, set[str]] = defaultdict(set)
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if path and pathlib.Path(path).exists():
        for host, got in group_map(path).items():
            groups[host].update(got)
    if os.environ.get("MAIL_AUDIT_HOSTVARS"):
        for host, hv in json.loads(os.environ["MAIL_AUDIT_HOSTVARS"]).items():
            groups[host].update(hv.get("groups") or [])
    return groups


def _inventory_hostvars() -> dict[str, dict]:
    """{host: variables} of Molecule's inventory (MOLECULE_INVENTORY_FILE, with the group_vars
    beside it), as `ansible-inventory --list` resolves them (not templated: the lab switches are
    plain values); {} when there is none or it cannot be read."""
    path = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not path or not pathlib.Path(path).exists():
        return {}
    return _read_inventory(path)


@functools.lru_cache(maxsize=4)
def _read_inventory(path: str) -> dict[str, dict]:
    venv = ROOT / ".venv" / "bin" / "ansible-inventory"
    exe = str(venv) if venv.exists() else shutil.which("ansible-inventory")
    if not exe:
        return {}
    try:
        run = subprocess.run([exe, "-i", path, "--list"], capture_output=True, text=True, timeout=300,
                             env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
        return json.loads(run.stdout).get("_meta", {}).get("hostvars", {}) if run.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}


def switch_values(hosts, names: set[str]) -> dict[str, dict | None]:
    """{host: {switch variable: value}} for the switches the host's inventory sets (an absent one
    keeps its role default, production's value), or None where the host's inventory is unknown."""
    audit = json.loads(os.environ["MAIL_AUDIT_HOSTVARS"]) if os.environ.get("MAIL_AUDIT_HOSTVARS") else {}
    inventory = None
    out: dict[str, dict | None] = {}
    for host in hosts:
        if host in audit:
            given = audit[host].get("switches")
            out[host] = {k: v for k, v in given.items() if k in names} if isinstance(given, dict) else None
            continue
        if inventory is None:
            inventory = _inventory_hostvars() if names else {}
        hv = inventory.get(host)
        out[host] = {k: v for k, v in hv.items() if k in names} if isinstance(hv, dict) else None
    return out


def production_path(host: str, var: str) -> bool:
    """Whether `host` runs production's value of the switch `var` (its role default), as its
    inventory says (see switch_values). Tests use it to check what only production does (kernel
    parameters loaded, audit rules loaded) where the host does it; an unknown inventory counts
    as production's (the stricter check)."""
    values = switch_values([host], {var}).get(host)
    return values is None or var not in values or _same(values[var], production_values().get(var))


def _same(value, production) -> bool:
    if isinstance(value, str) and isinstance(production, str):
        return value.strip().casefold() == production.strip().casefold()
    return value == production


def show_value(value) -> str:
    """A switch's value as the inventory writes it (YAML-like, at most 80 characters)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, (list, dict)):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def lab_marks(switches: list[str], values: dict | None, production: dict) -> list[dict] | None:
    """The control's switches set to another value than production's on a host: [{var, value,
    production}] ([] when the host runs production's values), None when the host's values are unknown."""
    if values is None:
        return None
    return [{"var": var, "value": show_value(values[var]), "production": show_value(production.get(var))}
            for var in switches if var in values and not _same(values[var], production.get(var))]


def lab_note(marks: list[dict] | None) -> str:
    """The words next to a verdict: '(lab: a=false, b=x — production path not run here / ...)', or ''."""
    if not marks:
        return ""
    return ("(lab: " + ", ".join(f"{m['var']}={m['value']}" for m in marks)
            + " — production path not run here / chưa chạy như trên máy chủ thật)")


def _suite_dirs(config) -> list[pathlib.Path]:
    """The directories of the conftests that load this plugin: the suite this run is."""
    dirs = set()
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and os.path.basename(path) == "conftest.py" and getattr(plugin, "evidence", None) is evidence:
            dirs.add(pathlib.Path(path).resolve().parent)
    return sorted(dirs)


def _where_else(control, here: set[str]) -> str:
    """Where a control's tests outside this suite run: Molecule scenarios / make targets."""
    runs = runs_of_suites()
    names = []
    for test in control.tests:
        suite = suite_of(test.split("::")[0])
        if suite in here:
            continue
        for run in runs.get(suite, [suite]):
            if run not in names:
                names.append(run)
    return ", ".join(names)


def judge(state: dict, run: str, suite_dirs: list[pathlib.Path], rootdir: pathlib.Path = ROOT) -> dict:
    """Every host's verdict on every control: {host: {"groups", "controls": {cid: {...}}}}."""
    controls = catalogue()
    groups = _inventory_groups()
    rows: dict[str, list[dict]] = defaultdict(list)
    nodeids = set(state["expected"]) | set(state["phases"])
    for nodeid in sorted(nodeids):
        expected = state["expected"].get(nodeid, {})
        phases = state["phases"].get(nodeid, {})
        rows[(phases and next(iter(phases.values()))["host"]) or expected["host"]].append(
            _item_result(nodeid, phases, expected, nodeid in state["deselected"]))
    hosts = set(rows)
    # A `def test_*` of this suite that carries the marker but was never collected proves nothing.
    uncollected: dict[str, list[str]] = defaultdict(list)
    for base in suite_dirs:
        for path in test_files(base):
            for name, ids in scan_file(path).items():
                if (str(path), name) not in state["collected_keys"]:
                    for cid in ids:
                        uncollected[cid].append(f"{os.path.relpath(path, rootdir)}::{name}")
    switched = {var for control in controls.values() for var in control.lab_switches}
    values = switch_values(hosts, switched) if switched else {}
    production = production_values() if switched else {}
    here = set()
    for base in suite_dirs:
        try:
            here.add(str(base.relative_to(ROOT)))
        except ValueError:
            here.add(str(base))
    scope = state["scope"]
    result = {}
    for host in sorted(hosts):
        per: dict[str, list[dict]] = defaultdict(list)
        for r in rows.get(host, []):
            for cid in r["controls"]:
                per[cid].append(r)
        others = {h for h in hosts if h != host}
        verdicts = {}
        for cid, control in controls.items():
            got = per.get(cid, [])
            never = [{"test": t, "host": host, "state": NOT_PROVEN, "phases": {}, "evidence": [], "doc": "",
                      "why": "never collected: a marked def test_* that pytest does not collect"}
                     for t in uncollected.get(cid, [])]
            tests = got + never
            na = control.na_reason(host, groups.get(host, set()))
            entry = {"verdict": None, "tests": tests, "na_reason": None, "note": None, "lab_switches": None}
            if any(t["state"] == FAIL for t in tests):
                entry["verdict"] = FAIL
            elif any(t["state"] == NOT_PROVEN for t in tests):
                entry["verdict"], entry["na_reason"] = (NA, na) if na else (NOT_PROVEN, None)
            elif tests:
                entry["verdict"] = PASS
            elif na:
                entry["verdict"], entry["na_reason"] = NA, na
            elif any(cid in r["controls"] for h in others for r in rows.get(h, [])):
                on = sorted(h for h in others if any(cid in r["controls"] for r in rows.get(h, [])))
                entry["verdict"], entry["note"] = ELSEWHERE, {
                    "en": f"checked on {', '.join(on)} in this run, not on this host",
                    "vi": f"được kiểm trên {', '.join(on)} trong lần chạy này, không phải máy chủ này"}
            elif scope and _where_else(control, here):
                entry["verdict"], entry["note"] = ELSEWHERE, {
                    "en": f"outside this run's scope: {scope['en']}",
                    "vi": f"ngoài phạm vi lần chạy này: {scope['vi']}"}
            elif (where := _where_else(control, here)):
                entry["verdict"], entry["note"] = ELSEWHERE, {
                    "en": f"checked in {where} (see the consolidated report reports/conformance/REPORT.md)",
                    "vi": f"được kiểm ở {where} (xem báo cáo tổng hợp reports/conformance/REPORT.md)"}
            else:
                entry["verdict"], entry["note"] = NOT_PROVEN, {
                    "en": "no test in any suite proves this control", "vi": "không có phép kiểm nào chứng minh"}
            if control.lab_switches and got and entry["verdict"] in (PASS, FAIL, NOT_PROVEN):
                # tests ran on this host: were they on production's path?
                entry["lab_switches"] = lab_marks(control.lab_switches, values.get(host), production)
            verdicts[cid] = entry
        result[host] = {"groups": sorted(groups.get(host, set())), "controls": verdicts,
                        "counts": {s: sum(1 for v in verdicts.values() if v["verdict"] == s) for s in STATES}}
    return result


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def test_line(t: dict) -> str:
    """One test's row of evidence: name, outcome, why, evidence lines."""
    state = {PASS: "pass", FAIL: "FAIL", NOT_PROVEN: "NOT PROVEN"}.get(t["state"], t["state"])
    return (f"{t['test']}: {state}" + (f" ({t['why']})" if t.get("why") else "")
            + (f" [{'; '.join(t['evidence'])}]" if t.get("evidence") else ""))


def summary_line(counts: dict, total: int) -> str:
    return (", ".join(f"{SHORT[s]} {counts.get(s, 0)}" for s in STATES)
            + f" (của {total} biện pháp / of {total} controls)")


def write_reports(judged: dict, run: str) -> list:
    controls = catalogue()
    out = reports_root() / run
    out.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    written = []
    for host, data in judged.items():
        lines = []
        for cid, control in controls.items():
            v = data["controls"][cid]
            if v["tests"]:
                detail = "<br>".join(_cell(test_line(t)) for t in v["tests"])
            else:
                detail = ""
            for key in ("na_reason", "note"):
                if v[key]:
                    detail = (detail + "<br>" if detail else "") + _cell(f"{v[key]['vi']} / {v[key]['en']}")
            note = lab_note(v.get("lab_switches"))
            lines.append(f"| {cid} | {_cell(control.title_vi)}<br>{_cell(control.title_en)} | "
                         f"{_cell(', '.join(control.source))} | **{LABEL[v['verdict']]}**"
                         f"{'<br>' + _cell(note) if note else ''} | {_cell(control.how)}<br>{detail} |")
        marked = sum(1 for v in data["controls"].values() if v.get("lab_switches"))
        text = "\n".join([
            f"# Báo cáo tuân thủ / Conformance report — {host}",
            "",
            f"- Lần chạy / Run: `{run}` — {now}",
            f"- Kết quả / Result: {summary_line(data['counts'], len(controls))}",
            "- ĐẠT/PASS: mọi phép kiểm của biện pháp trên máy chủ này đã chạy và đạt (setup, call, teardown) / "
            "every test of the control on this host ran and passed in setup, call and teardown. "
            "CHƯA CHỨNG MINH/NOT PROVEN: có phép kiểm bị bỏ qua, xfail hoặc không chạy / a test was skipped, "
            "xfailed or never ran. KHÔNG ÁP DỤNG/N/A: chỉ khi danh mục khai báo, kèm lý do / only where the "
            "catalogue declares it, with the reason. NGOÀI LẦN CHẠY NÀY/NOT IN THIS RUN: kiểm ở nơi khác, "
            "không tính là đạt / checked elsewhere, not counted as a pass.",
            f"- (lab: …) cạnh kết quả / next to a verdict ({marked}): phép kiểm chạy với giá trị phòng thử nghiệm "
            "của biến (inventories/lab/group_vars/all/lab.yml), không phải giá trị vận hành (mặc định của role); "
            "chỉ máy chủ thật chứng minh được phần đó (playbooks/audit.yml) / the tests ran with the lab's value "
            "of the switch, not production's (the role default): only a real server proves that part "
            "(playbooks/audit.yml).",
            "- Nguồn / Sources: R1–R12 = yêu cầu của hệ thống (MISSION.md, Quy chế thư điện tử công vụ Gia Lai); "
            "Mozilla TLS, CIS Debian, dev-sec, NIST SP 800-45/800-177.",
            "",
            "| Mã / ID | Biện pháp / Control | Nguồn / Source | Kết quả / Result | "
            "Cách kiểm và bằng chứng / Method and evidence |",
            "|---|---|---|---|---|",
            *lines, ""])
        path = out / f"{host}.md"
        path.write_text(text, encoding="utf-8")
        written.append((path, data["counts"]))
    (out / "results.json").write_text(json.dumps(
        {"run": run, "generated": now, "hosts": judged}, ensure_ascii=False, indent=1), encoding="utf-8")
    return written


def not_proven(judged: dict) -> list[tuple[str, str, str]]:
    """(control, host, why) for every NOT PROVEN verdict."""
    found = []
    for host, data in judged.items():
        for cid, v in data["controls"].items():
            if v["verdict"] == NOT_PROVEN:
                why = "; ".join(test_line(t) for t in v["tests"] if t["state"] == NOT_PROVEN)
                found.append((cid, host, why or (v["note"] or {}).get("en", "")))
    return found


def pytest_sessionfinish(session, exitstatus):
    if not _writes_reports(session.config):
        return  # a pytest-xdist worker (the controller writes the report), or --collect-only
    state = _state(session.config)
    if not state["expected"] and not state["phases"]:
        return
    judged = judge(state, _run_name(), _suite_dirs(session.config), session.config.rootpath)
    session.config._conformance_written = write_reports(judged, _run_name())
    session.config._conformance_not_proven = unproven = not_proven(judged)
    if unproven and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    written = getattr(config, "_conformance_written", [])
    if written:
        terminalreporter.section("conformance report / báo cáo tuân thủ")
        for path, counts in written:
            try:
                shown = path.relative_to(ROOT)
            except ValueError:
                shown = path
            terminalreporter.write_line(f"{shown}: " + ", ".join(f"{s} {counts[s]}" for s in STATES))
    unproven = getattr(config, "_conformance_not_proven", [])
    if unproven:
        terminalreporter.section("CHƯA CHỨNG MINH / NOT PROVEN: this run fails", red=True, bold=True)
        for cid, host, why in unproven:
            terminalreporter.write_line(f"NOT PROVEN {cid} on {host}: {why}"[:600], red=True)
