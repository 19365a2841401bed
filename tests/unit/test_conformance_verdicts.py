"""The conformance report's verdict rules (tests/conformance/plugin.py), proven on a fake
suite run by a real pytest (in a subprocess, once plainly and once under pytest-xdist),
judged by what the run WRITES (the per-host Markdown and results.json) and by its exit
status; and scripts/conformance-report.py merging two runs' results.json. The lab marks
("PASS (lab: x_apply=false ...)") come from a real inventory read by ansible-inventory."""

from __future__ import annotations

import json
import os
import re
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]

CONTROLS = """\
- {id: X-01, area: x, title_en: Passes, title_vi: Đạt, source: [R1], how: one test passes}
- {id: X-02, area: x, title_en: Skipped, title_vi: Bỏ qua, source: [R1], how: one test is skipped}
- {id: X-03, area: x, title_en: Xfailed, title_vi: Thất bại dự kiến, source: [R1], how: xfail}
- {id: X-04, area: x, title_en: Teardown error, title_vi: Lỗi dọn dẹp, source: [R1], how: teardown raises}
- {id: X-05, area: x, title_en: Never run, title_vi: Không bao giờ chạy, source: [R1], how: nested helper}
- id: X-06
  area: x
  title_en: Declared not applicable
  title_vi: Khai báo không áp dụng
  source: [R1]
  how: skipped on a host outside mail_store
  not_applicable:
    - not_in_groups: [mail_store]
      reason_en: the host stores no mail (not in mail_store)
      reason_vi: máy chủ không lưu thư (không thuộc nhóm mail_store)
- {id: X-07, area: x, title_en: Proven in another suite, title_vi: Kiểm ở bộ khác, source: [R1], how: suite_b}
- {id: X-08, area: x, title_en: One pass one skip, title_vi: Một đạt một bỏ qua, source: [R1], how: two tests}
- {id: X-09, area: x, title_en: Xpass, title_vi: Đạt ngoài dự kiến, source: [R1], how: xfail that passes}
- {id: X-10, area: x, title_en: Per host, title_vi: Theo máy chủ, source: [R1], how: h1 passes and h2 fails}
- {id: X-11, area: x, title_en: Failing call, title_vi: Lỗi khi chạy, source: [R1], how: assert fails}
- id: X-12
  area: x
  title_en: Switched off in the lab
  title_vi: Tắt trong phòng thử nghiệm
  source: [R1]
  how: passes on h1 (both switches at the lab's value) and h2 (x_scheme at production's)
  lab_switches: [x_apply, x_scheme]
"""

# The production values: the fake roles' defaults.
ROLE_DEFAULTS = "x_apply: true\nx_scheme: PROD\nx_other: 1\n"
# The inventory's: the lab (all) switches both off; mail_store (h2) keeps production's scheme.
LAB_VARS = "x_apply: false\nx_scheme: LAB\n"
STORE_VARS = "x_scheme: prod\n"

CONFTEST = f"""\
import sys
sys.path.insert(0, {str(ROOT)!r})
from tests.conformance.plugin import *  # noqa
"""

SUITE = """\
import pytest

@pytest.mark.control("X-01")
def test_pass(evidence):
    evidence("250 2.0.0 Ok")

@pytest.mark.control("X-02")
def test_skip():
    pytest.skip("scanner not installed")

@pytest.mark.control("X-03")
@pytest.mark.xfail(reason="known broken")
def test_xfail():
    assert False

@pytest.fixture
def broken_cleanup():
    yield
    raise RuntimeError("cleanup failed")

@pytest.mark.control("X-04")
def test_teardown_error(broken_cleanup):
    pass

def helper():
    @pytest.mark.control("X-05")
    def test_nested_never_collected():
        pass
    return test_nested_never_collected

@pytest.mark.control("X-06")
def test_not_applicable_here():
    pytest.skip("no mail store on this host")

@pytest.mark.control("X-08")
def test_half_a():
    pass

@pytest.mark.control("X-08")
@pytest.mark.skipif(True, reason="optional tool missing")
def test_half_b():
    pass

@pytest.mark.control("X-09")
@pytest.mark.xfail(reason="flaky")
def test_xpass():
    pass

@pytest.mark.control("X-10")
@pytest.mark.parametrize("host_name", ["h1", "h2"])
def test_per_host(host_name, evidence):
    evidence(f"checked {host_name}")
    assert host_name == "h1", "h2 refused"

@pytest.mark.control("X-11")
def test_call_fails():
    assert 1 == 2, "reply was 250, wanted 554"

@pytest.mark.control("X-12")
@pytest.mark.parametrize("host_name", ["h1", "h2"])
def test_switched(host_name):
    pass
"""

OTHER = """\
import pytest

@pytest.mark.control("X-07")
def test_in_the_other_suite():
    pass
"""

EXPECTED_H1 = {"X-01": "pass", "X-02": "not_proven", "X-03": "not_proven", "X-04": "fail", "X-05": "not_proven",
               "X-06": "n/a", "X-07": "elsewhere", "X-08": "not_proven", "X-09": "not_proven", "X-10": "pass",
               "X-11": "fail", "X-12": "pass"}
LABELS = {"pass": "ĐẠT / PASS", "fail": "KHÔNG ĐẠT / FAIL", "not_proven": "CHƯA CHỨNG MINH / NOT PROVEN",
          "n/a": "KHÔNG ÁP DỤNG / N/A", "elsewhere": "NGOÀI LẦN CHẠY NÀY / NOT IN THIS RUN"}


@pytest.fixture
def fake(pytester, monkeypatch):
    base = pytester.path
    (base / "controls").mkdir()
    (base / "controls" / "fake.yml").write_text(CONTROLS, encoding="utf-8")
    for suite, body in (("suite_a", SUITE), ("suite_b", OTHER)):
        (base / suite).mkdir()
        (base / suite / "test_fake.py").write_text(body, encoding="utf-8")
    (base / "suite_a" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (base / "roles" / "x" / "defaults").mkdir(parents=True)
    (base / "roles" / "x" / "defaults" / "main.yml").write_text(ROLE_DEFAULTS, encoding="utf-8")
    inventory = base / "inventory" / "inventory.yml"  # as Molecule writes it, group_vars beside it
    (base / "inventory" / "group_vars").mkdir(parents=True)
    inventory.write_text("all:\n  children:\n    dns:\n      hosts: {h1: }\n    mail_store:\n      hosts: {h2: }\n")
    (base / "inventory" / "group_vars" / "all.yml").write_text(LAB_VARS, encoding="utf-8")
    (base / "inventory" / "group_vars" / "mail_store.yml").write_text(STORE_VARS, encoding="utf-8")
    for key, value in {"MAIL_CONFORMANCE_CONTROLS": base / "controls",
                       "MAIL_CONFORMANCE_ROLES": base / "roles",
                       "MAIL_CONFORMANCE_REPORTS": base / "reports",
                       "MAIL_CONFORMANCE_TEST_DIRS": os.pathsep.join([str(base / "suite_a"), str(base / "suite_b")]),
                       "MAIL_CONFORMANCE_RUN": "fake", "MAIL_CONFORMANCE_HOST": "h1",
                       "MOLECULE_INVENTORY_FILE": inventory}.items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.delenv("MAIL_AUDIT_HOSTVARS", raising=False)
    return base


def _rows(markdown: str) -> dict[str, str]:
    """{control id: verdict label} from the report's table."""
    rows = {}
    for line in markdown.splitlines():
        if line.startswith("| X-"):
            cells = line.split(" | ")
            rows[cells[0].removeprefix("| ")] = cells[3].split("<br>")[0].strip("*")
    return rows


def _check_run(pytester, fake, *args):
    stale = fake / "reports" / "fake" / "stale-host.md"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("PASS everything")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", str(fake / "suite_a"), *args)
    assert result.ret == 1, result.stdout.str()
    out = fake / "reports" / "fake"
    assert not stale.exists(), "a host report of an earlier run survived"
    assert sorted(p.name for p in out.iterdir()) == ["h1.md", "h2.md", "junit.xml", "results.json"]
    assert '<property name="control" value="X-01" />' in (out / "junit.xml").read_text(encoding="utf-8")

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    h1 = results["hosts"]["h1"]["controls"]
    assert {cid: v["verdict"] for cid, v in h1.items()} == EXPECTED_H1
    markdown = (out / "h1.md").read_text(encoding="utf-8")
    assert _rows(markdown) == {cid: LABELS[v] for cid, v in EXPECTED_H1.items()}
    assert "ĐẠT/PASS 3, KHÔNG ĐẠT/FAIL 2, CHƯA CHỨNG MINH/NOT PROVEN 5, KHÔNG ÁP DỤNG/N/A 1" in markdown

    # the why of each verdict, in the written report
    assert "teardown error: RuntimeError: cleanup failed" in markdown
    assert "skipped (setup): optional tool missing" in markdown
    assert "xfail: known broken" in markdown and "XPASS of a test marked xfail (flaky)" in markdown
    assert "suite_a/test_fake.py::test_nested_never_collected: NOT PROVEN (never collected" in markdown
    assert ("máy chủ không lưu thư (không thuộc nhóm mail_store) / the host stores no mail (not in mail_store)"
            in markdown)
    assert f"checked in {fake / 'suite_b'}" in markdown
    assert "suite_a/test_fake.py::test_pass: pass [250 2.0.0 Ok]" in markdown
    # the other host's half of a parametrised test is in its own report, never in h1's
    assert "checked h2" not in markdown and "h2 refused" not in markdown
    assert [t["test"] for t in h1["X-10"]["tests"]] == ["suite_a/test_fake.py::test_per_host[h1]"]
    h2 = results["hosts"]["h2"]["controls"]
    assert h2["X-10"]["verdict"] == "fail" and "h2 refused" in h2["X-10"]["tests"][0]["why"]
    assert h2["X-01"]["verdict"] == "elsewhere"
    # h2 is in mail_store: X-06 is not declared N/A there, and its test did not run there
    assert h2["X-06"]["verdict"] == "elsewhere"

    # the lab marks: next to the verdict of a control run with a lab value of its switch, on that host only
    row = next(line for line in markdown.splitlines() if line.startswith("| X-12 "))
    assert "**ĐẠT / PASS**<br>(lab: x_apply=false, x_scheme=LAB — production path not run here" in row
    assert h1["X-12"]["lab_switches"] == [{"var": "x_apply", "value": "false", "production": "true"},
                                          {"var": "x_scheme", "value": "LAB", "production": "PROD"}]
    assert all(v["lab_switches"] is None for cid, v in h1.items() if cid != "X-12")
    assert "(lab: …) cạnh kết quả / next to a verdict (1)" in markdown
    # h2's inventory keeps production's scheme (any case): only x_apply is marked there
    assert results["hosts"]["h2"]["controls"]["X-12"]["lab_switches"] == [
        {"var": "x_apply", "value": "false", "production": "true"}]
    row = next(line for line in (out / "h2.md").read_text(encoding="utf-8").splitlines() if line.startswith("| X-12 "))
    assert "(lab: x_apply=false — production path not run here" in row and "x_scheme" not in row.split(" | ")[3]

    # the terminal names every NOT PROVEN control and host
    result.stdout.fnmatch_lines(["*CHƯA CHỨNG MINH / NOT PROVEN: this run fails*",
                                 "NOT PROVEN X-02 on h1: *skipped*scanner not installed*",
                                 "NOT PROVEN X-05 on h1: *never collected*"])
    return results


def test_verdicts_in_the_written_report(pytester, fake):
    _check_run(pytester, fake)


def test_the_same_verdicts_under_xdist(pytester, fake):
    pytest.importorskip("xdist")
    _check_run(pytester, fake, "-p", "xdist", "-n", "2")


def test_not_proven_alone_fails_the_run_and_a_declared_na_does_not(pytester, fake):
    """Only passes and skips: pytest itself says OK, the conformance verdict makes it fail;
    a skip on a host where the control is declared N/A does not."""
    (fake / "suite_a" / "test_fake.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.mark.control("X-01")
        def test_pass():
            pass

        @pytest.mark.control("X-06")
        def test_not_applicable_here():
            pytest.skip("no mail store on this host")
    """), encoding="utf-8")
    controls = fake / "controls" / "fake.yml"
    keep = [block for block in CONTROLS.split("\n- ") if block.lstrip("- ").startswith(("{id: X-01", "id: X-06"))]
    controls.write_text("- " + "\n- ".join(b.lstrip("- ") for b in keep), encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", str(fake / "suite_a"))
    assert result.ret == 0, result.stdout.str()
    results = json.loads((fake / "reports" / "fake" / "results.json").read_text(encoding="utf-8"))
    assert {c: v["verdict"] for c, v in results["hosts"]["h1"]["controls"].items()} == {"X-01": "pass", "X-06": "n/a"}

    (fake / "suite_a" / "test_fake.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.mark.control("X-01")
        def test_pass():
            pytest.skip("not today")

        @pytest.mark.control("X-06")
        def test_not_applicable_here():
            pass
    """), encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", str(fake / "suite_a"))
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["NOT PROVEN X-01 on h1: *not today*"])
    results = json.loads((fake / "reports" / "fake" / "results.json").read_text(encoding="utf-8"))
    # a declared N/A control whose test ran and passed is judged on it
    assert {c: v["verdict"] for c, v in results["hosts"]["h1"]["controls"].items()} == {
        "X-01": "not_proven", "X-06": "pass"}


def test_a_declared_scope_says_so_for_the_controls_outside_it(pytester, fake):
    """A run that covers a part of the catalogue by design (the read-only audit runs only
    tests/audit) says so for a control whose tests are all in other suites: NOT IN THIS RUN
    with the declared reason, not where else it runs; a control no suite proves stays NOT PROVEN."""
    (fake / "suite_a" / "conftest.py").write_text(CONFTEST + textwrap.dedent("""\
        import pytest
        import tests.conformance.plugin as _conformance

        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(config):
            _conformance.pytest_configure(config)
            _conformance.declare_scope(config, "only the read-only checks", "chỉ các phép kiểm chỉ đọc")
    """), encoding="utf-8")
    (fake / "suite_a" / "test_fake.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.mark.control("X-01")
        def test_pass():
            pass
    """), encoding="utf-8")
    controls = fake / "controls" / "fake.yml"
    keep = [block for block in CONTROLS.split("\n- ") if block.lstrip("- ").startswith(("{id: X-01", "{id: X-07",
                                                                                          "{id: X-11"))]
    controls.write_text("- " + "\n- ".join(b.lstrip("- ") for b in keep), encoding="utf-8")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", str(fake / "suite_a"))
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(["NOT PROVEN X-11 on h1: no test in any suite proves this control"])
    results = json.loads((fake / "reports" / "fake" / "results.json").read_text(encoding="utf-8"))
    h1 = results["hosts"]["h1"]["controls"]
    assert {c: v["verdict"] for c, v in h1.items()} == {"X-01": "pass", "X-07": "elsewhere", "X-11": "not_proven"}
    assert h1["X-07"]["note"] == {"en": "outside this run's scope: only the read-only checks",
                                  "vi": "ngoài phạm vi lần chạy này: chỉ các phép kiểm chỉ đọc"}
    markdown = (fake / "reports" / "fake" / "h1.md").read_text(encoding="utf-8")
    assert ("ngoài phạm vi lần chạy này: chỉ các phép kiểm chỉ đọc / outside this run's scope: "
            "only the read-only checks") in markdown
    assert f"checked in {fake / 'suite_b'}" not in markdown


def _results(run: str, hosts: dict, lab: dict | None = None) -> dict:
    """A run's results.json; lab: {(host, control): [switch marks]} (else None: no switches)."""
    return {"run": run, "generated": "2026-12-03 07:00 UTC", "hosts": {
        host: {"groups": [], "counts": {}, "controls": {
            cid: {"verdict": verdict, "na_reason": None, "note": None, "lab_switches": (lab or {}).get((host, cid)),
                  "tests": [] if verdict in ("elsewhere", "n/a") else [
                      {"test": f"test_{cid.lower()}", "host": host, "state": verdict, "why": "",
                       "evidence": [f"{cid} seen on {host}"], "phases": {}, "doc": ""}]}
            for cid, verdict in controls.items()}}
        for host, controls in hosts.items()}}


def test_consolidated_report_from_two_runs(tmp_path, monkeypatch):
    controls = tmp_path / "controls"
    controls.mkdir()
    (controls / "fake.yml").write_text(CONTROLS, encoding="utf-8")
    (tmp_path / "roles" / "x" / "defaults").mkdir(parents=True)
    (tmp_path / "roles" / "x" / "defaults" / "main.yml").write_text(ROLE_DEFAULTS, encoding="utf-8")
    monkeypatch.setenv("MAIL_CONFORMANCE_CONTROLS", str(controls))
    monkeypatch.setenv("MAIL_CONFORMANCE_ROLES", str(tmp_path / "roles"))
    monkeypatch.setenv("MAIL_CONFORMANCE_TEST_DIRS", str(tmp_path / "none"))
    reports = tmp_path / "reports"
    apply_off = {"var": "x_apply", "value": "false", "production": "true"}
    scheme_lab = {"var": "x_scheme", "value": "LAB", "production": "PROD"}
    for run, hosts, lab in (
        ("default", {"aio-debian13": {"X-01": "pass", "X-02": "elsewhere", "X-03": "pass", "X-04": "pass",
                                      "X-06": "n/a", "X-07": "pass", "X-08": "pass", "X-09": "elsewhere",
                                      "X-10": "pass", "X-11": "elsewhere", "X-12": "pass"}},
         {("aio-debian13", "X-12"): [apply_off, scheme_lab]}),
        # backup keeps production's x_scheme: that switch's mark is lifted in the consolidated report
        ("backup", {"bk-store13": {"X-01": "elsewhere", "X-02": "pass", "X-03": "fail", "X-04": "not_proven",
                                   "X-06": "elsewhere", "X-07": "elsewhere", "X-08": "pass", "X-09": "elsewhere",
                                   "X-10": "elsewhere", "X-11": "pass", "X-12": "pass"}},
         {("bk-store13", "X-12"): [apply_off]}),
    ):
        (reports / run).mkdir(parents=True)
        (reports / run / "results.json").write_text(json.dumps(_results(run, hosts, lab)), encoding="utf-8")
    script = ROOT / "scripts" / "conformance-report.py"
    result = subprocess.run([sys.executable, str(script), "--reports", str(reports),
                             "--expect", "default", "backup", "edge"],
                            capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((reports / "REPORT.json").read_text(encoding="utf-8"))
    assert data["runs_found"] == ["backup", "default"] and data["runs_missing"] == ["edge"]
    assert {c: v["verdict"] for c, v in data["controls"].items()} == {
        "X-01": "pass", "X-02": "pass", "X-03": "fail", "X-04": "not_proven", "X-05": "not_proven",
        "X-06": "n/a", "X-07": "pass", "X-08": "pass", "X-09": "not_proven", "X-10": "pass", "X-11": "pass",
        "X-12": "pass"}
    assert data["controls"]["X-12"]["lab_switches"] == [
        {"var": "x_apply", "values": ["false"], "where": ["backup/bk-store13", "default/aio-debian13"]}]
    assert all(not v["lab_switches"] for cid, v in data["controls"].items() if cid != "X-12")
    markdown = (reports / "REPORT.md").read_text(encoding="utf-8")
    row = next(line for line in markdown.splitlines() if line.startswith("| X-12 "))
    assert ("**ĐẠT / PASS**<br>(lab: x_apply=false in backup/bk-store13, default/aio-debian13 — production path "
            "not run in any run") in row and "x_scheme" not in row.split(" | ")[3]
    assert "(lab: …) cạnh kết quả / next to a verdict (1)" in markdown
    assert "Runs found: backup (2026-12-03 07:00 UTC), default (2026-12-03 07:00 UTC)" in markdown
    assert "Expected runs missing: edge" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| X-08 "))
    assert "default / aio-debian13 / test_x-08" in row and "backup / bk-store13 / test_x-08" in row
    assert "X-08 seen on bk-store13" in row
    row = next(line for line in markdown.splitlines() if line.startswith("| X-05 "))
    assert "**CHƯA CHỨNG MINH / NOT PROVEN**" in row
    html = (reports / "REPORT.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "<link" not in html and "<script" not in html
    assert "Báo cáo tuân thủ tổng hợp / Consolidated conformance report" in html and "@media print" in html
    assert ('<b>ĐẠT / PASS</b><br><span class="lab">(lab: x_apply=false in backup/bk-store13, '
            'default/aio-debian13 — production path not run in any run') in html
    assert "NOT PROVEN X-04" in result.stdout and "FAIL X-03" in result.stdout

    # every control proven somewhere and nothing failed: exit 0
    good = _results("default", {"aio-debian13": {c: "pass" for c in EXPECTED_H1} | {"X-06": "n/a"}},
                    {("aio-debian13", "X-12"): []})
    (reports / "backup" / "results.json").unlink()
    (reports / "default" / "results.json").write_text(json.dumps(good), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script), "--reports", str(reports)],
                            capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "runs found: default" in result.stdout


def test_lab_switch_values_from_the_audit_and_none_where_unknown(tmp_path, monkeypatch):
    """playbooks/audit.yml passes each host's switches (templated by Ansible); a host it does not
    name and no Molecule inventory: unknown (None), so no mark either way."""
    from tests.conformance import plugin
    monkeypatch.delenv("MOLECULE_INVENTORY_FILE", raising=False)
    monkeypatch.setenv("MAIL_AUDIT_HOSTVARS", json.dumps({
        "mail1": {"groups": ["mail_store"], "switches": {"x_apply": True, "x_scheme": "prod"}},
        "lab1": {"groups": ["mail_store"], "switches": {"x_apply": False, "unrelated": 1}},
        "old": {"groups": []}}))
    values = plugin.switch_values(["mail1", "lab1", "old", "controller"], {"x_apply", "x_scheme"})
    assert values == {"mail1": {"x_apply": True, "x_scheme": "prod"}, "lab1": {"x_apply": False},
                      "old": None, "controller": None}
    production = {"x_apply": True, "x_scheme": "PROD"}
    marks = {h: plugin.lab_marks(["x_apply", "x_scheme"], v, production) for h, v in values.items()}
    assert marks == {"mail1": [], "lab1": [{"var": "x_apply", "value": "false", "production": "true"}],
                     "old": None, "controller": None}
    assert plugin.lab_note(marks["lab1"]).startswith("(lab: x_apply=false — production path not run here")
    assert plugin.lab_note(marks["mail1"]) == "" and plugin.lab_note(None) == ""
    # what the tests ask before checking production-only behaviour (loaded kernel values, audit rules):
    # an unknown inventory counts as production's (the stricter check)
    (tmp_path / "roles" / "x" / "defaults").mkdir(parents=True)
    (tmp_path / "roles" / "x" / "defaults" / "main.yml").write_text(ROLE_DEFAULTS, encoding="utf-8")
    monkeypatch.setenv("MAIL_CONFORMANCE_ROLES", str(tmp_path / "roles"))
    assert [plugin.production_path(h, "x_apply") for h in ("mail1", "lab1", "old", "controller")] == [
        True, False, True, True]
    assert plugin.show_value(["a" * 50, "b" * 50]).endswith("...") and len(plugin.show_value(["a" * 90])) == 80


def test_lab_switches_must_be_role_variables(tmp_path, monkeypatch):
    from tests.conformance.catalogue import load_controls
    (tmp_path / "roles" / "x" / "defaults").mkdir(parents=True)
    (tmp_path / "roles" / "x" / "defaults" / "main.yml").write_text(ROLE_DEFAULTS, encoding="utf-8")
    monkeypatch.setenv("MAIL_CONFORMANCE_ROLES", str(tmp_path / "roles"))
    base = "- {id: X-01, area: x, title_en: A, title_vi: Á, source: [R1], how: h, lab_switches: %s}\n"
    (tmp_path / "fake.yml").write_text(base % "[x_apply]", encoding="utf-8")
    assert load_controls(tmp_path)["X-01"].lab_switches == ["x_apply"]
    for bad, words in (("[x_aply]", "lab_switches ['x_aply'] are not role variables"),
                       ("[]", "lab_switches must be a non-empty list"), ("x_apply", "lab_switches must be a non-empty list")):
        (tmp_path / "fake.yml").write_text(base % bad, encoding="utf-8")
        with pytest.raises(ValueError, match=re.escape(f"fake.yml X-01: {words}")):
            load_controls(tmp_path)
