"""The conformance catalogue is complete and every test names real controls.

Completeness is judged on what pytest collects, not on the source: each suite CI runs
(make unit, make preflight, the Molecule scenarios' verifiers) is collected in a
subprocess (`pytest --collect-only`, a few seconds for all five side by side), the
plugin records the collected items with their controls and whether a skip/skipif or
xfail mark already rules them out, and every marked `def test_*` that pytest did not
collect (nested in a helper, in a class pytest ignores). The Molecule suites need an
inventory to collect: a small one is generated from the scenario's molecule.yml; the
read-only audit (tests/audit) a host name, as playbooks/audit.yml passes it.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

import tests.conformance.catalogue as cat
from tests.conformance.catalogue import CI_SUITES, ROOT, catalogue, load_controls, runs_of_suites, scan_tests

MIN_CONTROLS = 74  # 65 + BAK-01..09 (backup.yml)


def test_catalogue_loads_with_bilingual_titles_and_sources():
    controls = load_controls()
    assert len(controls) >= MIN_CONTROLS
    for control in controls.values():
        assert control.title_vi != control.title_en, control.id
        assert any(ch in control.title_vi for ch in "ăâđêôơưáàảãạếềệọớờợụứừựíìị"), f"{control.id}: title_vi is not Vietnamese"


def _inventory(scenario: pathlib.Path, path: pathlib.Path) -> None:
    """A Molecule-shaped inventory naming the scenario's platforms (${VAR:-default} expanded
    to its default) in their groups: enough for the conftests to collect, nothing to connect to."""
    platforms = yaml.safe_load(scenario.read_text(encoding="utf-8"))["platforms"]
    data: dict = {"all": {"hosts": {}}}
    for platform in platforms:
        name = re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", platform["name"])
        data["all"]["hosts"][name] = {}
        for group in platform.get("groups") or ["ungrouped"]:
            data.setdefault(group, {"hosts": {}})["hosts"][name] = {}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def collect(suites: list[pathlib.Path], tmp: pathlib.Path) -> dict[str, dict]:
    """{suite: {"rc", "output", "items", "uncollected"}}: each suite collected by pytest in a
    subprocess of its own (side by side), as the plugin recorded it."""
    runs = runs_of_suites()
    procs = {}
    for n, suite in enumerate(suites):
        env = dict(os.environ, MAIL_CONFORMANCE_COLLECTED=str(tmp / f"collected-{n}.json"),
                   MAIL_CONFORMANCE_REPORTS=str(tmp / "reports"), MOLECULE_EPHEMERAL_DIRECTORY=str(tmp))
        env.pop("MAIL_AUDIT_HOSTS", None)
        rel = os.path.relpath(suite, ROOT)
        scenario = runs.get(rel, [None])[0] if rel.startswith("molecule/") else None
        if scenario:
            _inventory(ROOT / "molecule" / scenario / "molecule.yml", tmp / f"inventory-{n}.yml")
            env.update(MOLECULE_INVENTORY_FILE=str(tmp / f"inventory-{n}.yml"), MOLECULE_SCENARIO_NAME=scenario)
        if rel == cat.AUDIT_SUITE:  # playbooks/audit.yml names the audited hosts; one is enough to collect
            env.update(MAIL_AUDIT_HOSTS="audited-host")
        procs[rel] = (n, subprocess.Popen(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "--assert=plain", "-p", "no:cacheprovider",
             "-p", "no:xdist",
             str(suite)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    found = {}
    for rel, (n, proc) in procs.items():
        output, _ = proc.communicate(timeout=120)
        record = tmp / f"collected-{n}.json"
        data = json.loads(record.read_text()) if record.exists() else {"items": [], "uncollected": []}
        found[rel] = {"rc": proc.returncode, "output": output, **data}
    return found


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> dict[str, dict]:
    return collect([ROOT / s for s in CI_SUITES], tmp_path_factory.mktemp("collect"))


def test_every_ci_suite_collects(collected):
    for suite, got in collected.items():
        assert got["rc"] == 0, f"{suite}: pytest --collect-only failed:\n{got['output'][-3000:]}"
        assert got["items"], f"{suite}: no test carrying a control was collected"


def test_the_ci_suites_are_the_suites_make_test_runs():
    """A control counts as proven in CI_SUITES only: each must be a suite the test command
    (`make test`, which CI's .ci/run runs) runs, through `make unit`, `make preflight` or a
    scenario of SCENARIOS, and every suite it runs must be counted."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    scenarios = re.search(r"^SCENARIOS \?= (.+)$", makefile, re.M).group(1).split()
    test = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "$(MAKE) --no-print-directory unit" in test and "$(MAKE) --no-print-directory preflight" in test, test
    assert "scripts/molecule-all.sh $(SCENARIOS)" in test, test
    for target, suite in (("unit", "tests/unit"), ("preflight", "tests/preflight")):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
        assert f"pytest -q -n 2 {suite}\n" in recipe, recipe  # the whole directory
    runs = {"unit", "preflight", *scenarios}
    run_by_ci = sorted(suite for suite, names in runs_of_suites().items() if runs & set(names))
    assert sorted(CI_SUITES) == run_by_ci, f"CI_SUITES {sorted(CI_SUITES)}; make test runs {run_by_ci}"


def test_every_control_is_proven_by_a_collected_unskipped_test(collected):
    proven = {cid for got in collected.values() for item in got["items"]
              if not item["skip"] and not item["xfail"] for cid in item["controls"]}
    orphans = sorted(set(load_controls()) - proven)
    assert orphans == [], (f"controls that no collected, unskipped test in {', '.join(CI_SUITES)} proves: "
                           f"{orphans}")


def test_every_marked_test_is_collected(collected):
    """A `def test_*` carrying the marker that pytest does not collect (nested in a helper) proves
    nothing, and the plugin reports it NOT PROVEN; it has no place in the suites."""
    lost = [f"{suite}: {t['test']} {t['controls']}" for suite, got in collected.items() for t in got["uncollected"]]
    assert lost == [], f"marked tests pytest never collects: {lost}"


def test_the_scenarios_that_import_the_audit_run_every_one_of_its_checks(collected):
    """playbooks/audit.yml runs tests/audit against deployed servers; the scenarios' tests import
    those checks (default and debian12 the mail host's, edge the webmail's: its mail host is the
    lab's webmail host), and every check is collected by at least one of them, so the lab proves
    each check the audit relies on. Every check names its controls: the audit's report is all it
    gives."""
    audit = ROOT / cat.AUDIT_SUITE
    defined = {(path.name, node.name) for path in cat.test_files(audit)
               for node in ast.parse(path.read_text(encoding="utf-8")).body
               if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}
    marked = {(pathlib.PurePath(test.split("::")[0]).name, test.split("::")[1]) for test in scan_tests((audit,))}
    assert len(defined) >= 20 and defined == marked, f"audit checks without a control: {sorted(defined - marked)}"
    names = {name for _, name in defined}
    assert len(names) == len(defined), "two audit checks share a function name"
    runs = runs_of_suites()
    assert {"default", "debian12", "audit"} <= set(runs[cat.AUDIT_SUITE]), runs
    importers = [suite for suite in runs if suite.startswith("molecule/") and cat.imports_audit(ROOT / suite)]
    assert {"molecule/default/tests", "molecule/edge/tests"} <= set(importers), importers
    got = {item["key"][1] for suite in importers for item in collected[suite]["items"]}
    # A check a scenario leaves to its audit run is proven there by a collected test that
    # reads the audit run's verdicts (molecule/default/tests/test_audit.py).
    left = _left_to_the_audit_run()
    assert left and set(left.values()) <= names, left
    reader = "test_the_audit_run_proves_the_checks_left_to_it"
    readers = [item for item in collected["molecule/default/tests"]["items"] if item["key"][1] == reader]
    assert readers and all(set(left) <= set(item["controls"]) for item in readers), readers
    got |= set(left.values())
    assert names - got == set(), f"no scenario collects these checks of tests/audit: {sorted(names - got)}"


def _left_to_the_audit_run() -> dict[str, str]:
    """LEFT_TO_THE_AUDIT_RUN of molecule/default/tests/test_audit.py, read without importing it."""
    tree = ast.parse((ROOT / "molecule" / "default" / "tests" / "test_audit.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "LEFT_TO_THE_AUDIT_RUN" for t in node.targets):
            return ast.literal_eval(node.value)
    return {}


def _audit_hostvars_keys() -> set[str]:
    """The keys playbooks/audit.yml passes per host in MAIL_AUDIT_HOSTVARS: its filter
    mail_audit_hostvars (plugins/plugin_utils/audit.py) gives them."""
    from ansible_collections.gialai.mail.plugins.plugin_utils.audit import mail_audit_hostvars

    plays = yaml.safe_load((ROOT / "playbooks" / "audit.yml").read_text(encoding="utf-8"))
    task = next(t for play in plays for t in play.get("tasks", []) if "MAIL_AUDIT_HOSTVARS" in t.get("environment", {}))
    assert "mail_audit_hostvars(" in task["environment"]["MAIL_AUDIT_HOSTVARS"]
    host = {"h": {"tls_key_file": "/k", "mail_audit_address": "10.0.0.1"}}
    return set(mail_audit_hostvars(["h"], host, [], "hosts.yml", "/tmp")["h"])


def test_the_audit_knows_only_what_audit_yml_passes():
    """tests/audit builds its `mail` from MAIL_AUDIT_HOSTVARS alone: it reads no key playbooks/audit.yml
    does not pass, imports nothing of the lab (tests/helpers/lab.py, labdata.py, LabData) and its checks
    read no `mail.lab` (None there), only what the Molecule suites that import them give too."""
    audit = ROOT / cat.AUDIT_SUITE
    conftest = (audit / "conftest.py").read_text(encoding="utf-8")
    read = set(re.findall(r"hv\[\"([a-z_]+)\"\]", conftest))
    assert read and read <= _audit_hostvars_keys(), f"read but not passed by audit.yml: {sorted(read - _audit_hostvars_keys())}"
    for path in sorted(audit.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert not {m for m in modules if m and m.startswith(("tests.helpers.lab", "tests.helpers.labdata"))}, path.name
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        assert "LabData" not in names, path.name
        lab = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "lab"]
        assert lab == [], f"{path.name} reads mail.lab (lines {lab}): the audit has no lab"


def test_the_collection_check_sees_nested_and_skipped_tests(tmp_path):
    """The check itself: a nested marked helper is reported uncollected, a skip-marked or
    xfail-marked test proves nothing, a skipif whose condition is false does."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                                       "from tests.conformance.plugin import *  # noqa\n")
    (suite / "test_x.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.mark.control("SMTP-01")
        @pytest.mark.skip(reason="later")
        def test_skipped():
            pass

        @pytest.mark.control("SMTP-02")
        @pytest.mark.xfail(reason="broken")
        def test_xfailed():
            pass

        @pytest.mark.control("SMTP-03")
        @pytest.mark.skipif(False, reason="never")
        def test_runs():
            pass

        def helper():
            @pytest.mark.control("SMTP-04")
            def test_nested():
                pass
    """))
    got = collect([suite], tmp_path)[os.path.relpath(suite, ROOT)]
    assert got["rc"] == 0, got["output"]
    items = {i["test"].split("::")[-1]: i for i in got["items"]}
    assert items["test_skipped"]["skip"] == "later" and items["test_xfailed"]["xfail"] == "broken"
    assert items["test_runs"]["skip"] is None and items["test_runs"]["xfail"] is None
    assert [(t["test"].split("::")[-1], t["controls"]) for t in got["uncollected"]] == [("test_nested", ["SMTP-04"])]


def test_every_control_has_a_test():
    orphans = sorted(cid for cid, control in catalogue().items() if not control.tests)
    assert orphans == [], f"controls without a test that proves them: {orphans}"


def test_every_test_names_only_known_controls():
    known = load_controls()
    unknown = {test: [c for c in ids if c not in known] for test, ids in scan_tests().items()}
    unknown = {t: ids for t, ids in unknown.items() if ids}
    assert unknown == {}, f"tests naming controls not in tests/conformance/controls: {unknown}"


def test_malformed_and_duplicate_controls_are_refused(tmp_path: pathlib.Path):
    good = textwrap.dedent("""\
        - id: X-01
          area: x
          title_en: English
          title_vi: Tiếng Việt
          source: [R1]
          how: test
    """)
    (tmp_path / "a.yml").write_text(good)
    assert list(load_controls(tmp_path)) == ["X-01"]
    (tmp_path / "b.yml").write_text(good)
    with pytest.raises(ValueError, match="X-01 is also defined in a.yml"):
        load_controls(tmp_path)
    (tmp_path / "b.yml").write_text(good.replace("X-01", "X-02").replace("  how: test\n", ""))
    with pytest.raises(ValueError, match="b.yml entry 1 .X-02.: missing how"):
        load_controls(tmp_path)


def test_scanner_finds_function_and_module_markers(tmp_path: pathlib.Path):
    (tmp_path / "test_x.py").write_text(textwrap.dedent("""\
        import pytest
        pytestmark = [pytest.mark.control("M-01")]

        @pytest.mark.control("A-01", "A-02")
        @pytest.mark.parametrize("p", [1])
        def test_a(p):
            pass

        def test_b():
            pass

        def helper():
            pass
    """))
    old = cat.ROOT
    cat.ROOT = tmp_path
    try:
        found = {k.split("::")[1]: v for k, v in scan_tests((tmp_path,)).items()}
    finally:
        cat.ROOT = old
    assert found == {"test_a": ["M-01", "A-01", "A-02"], "test_b": ["M-01"]}
