"""The conformance catalogue: controls (tests/conformance/controls/*.yml) and
the tests that prove them (@pytest.mark.control("ID") in any test file).

Read statically (YAML + the test files' syntax trees), so the build can check
the catalogue without running a single container.

A control may declare where it does not apply, with the reason the report
prints (the only way a control gets KHÔNG ÁP DỤNG / N/A):

    not_applicable:
      - not_in_groups: [mail_store]      # or groups: [...] / hosts: [...]
        reason_en: the host stores no mail (not in mail_store)
        reason_vi: máy chủ không lưu thư (không thuộc nhóm mail_store)

A control whose production behaviour the lab switches off names the role
variables that do it (the lab's inventories/lab/group_vars/all/lab.yml):

    lab_switches: [hardening_sysctl_apply]

The production value of each is its role default (roles/*/defaults/main.yml).
The report marks the control on every host whose inventory sets another value:
"ĐẠT / PASS (lab: hardening_sysctl_apply=false, production path not run here)";
a host whose inventory keeps the production value gets no mark.
"""

from __future__ import annotations

import ast
import os
import pathlib
from dataclasses import dataclass, field

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTROLS_DIR = ROOT / "tests" / "conformance" / "controls"
TEST_DIRS = (ROOT / "tests", ROOT / "molecule")
REQUIRED = ("id", "area", "title_en", "title_vi", "source", "how")
OPTIONAL = ("not_applicable", "lab_switches")
NA_SELECTORS = ("hosts", "groups", "not_in_groups")
ROLES_DIR = ROOT / "roles"
# The suites CI runs (make unit, make preflight, the Molecule scenarios' verifiers, and the
# read-only audit, which the default and debian12 scenarios run through playbooks/audit.yml).
AUDIT_SUITE = "tests/audit"
CI_SUITES = ("tests/unit", "tests/preflight", "molecule/default/tests", "molecule/edge/tests",
             "molecule/backup/tests", AUDIT_SUITE)


@dataclass
class Control:
    id: str
    area: str
    title_en: str
    title_vi: str
    source: list[str]
    how: str
    file: str
    tests: list[str] = field(default_factory=list)
    not_applicable: list[dict] = field(default_factory=list)
    lab_switches: list[str] = field(default_factory=list)

    def na_reason(self, host: str, groups: set[str] | frozenset = frozenset()) -> dict | None:
        """The declared reason ({"en", "vi"}) this control does not apply to `host`, or None."""
        for entry in self.not_applicable:
            if ("hosts" in entry and host in entry["hosts"]
                    or "groups" in entry and groups & set(entry["groups"])
                    or "not_in_groups" in entry and not groups & set(entry["not_in_groups"])):
                return {"en": entry["reason_en"], "vi": entry["reason_vi"]}
        return None


def _check_not_applicable(name: str, value) -> list[dict]:
    """The `not_applicable:` list: each entry one selector (a list of names) and both reasons."""
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name}: not_applicable must be a non-empty list")
    for n, entry in enumerate(value, 1):
        where = f"{name}: not_applicable entry {n}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a mapping")
        selectors = [k for k in NA_SELECTORS if k in entry]
        unknown = sorted(set(entry) - set(NA_SELECTORS) - {"reason_en", "reason_vi"})
        if unknown or len(selectors) != 1:
            raise ValueError(f"{where} needs exactly one of {', '.join(NA_SELECTORS)}"
                             + (f" (unknown keys {unknown})" if unknown else ""))
        names = entry[selectors[0]]
        if not isinstance(names, list) or not names or not all(isinstance(x, str) and x for x in names):
            raise ValueError(f"{where}: {selectors[0]} must be a non-empty list of names")
        for key in ("reason_en", "reason_vi"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise ValueError(f"{where}: {key} is missing (the report prints the declared reason)")
    return value


def roles_dir() -> pathlib.Path:
    """The roles whose defaults are production's values: $MAIL_CONFORMANCE_ROLES (the plugin's own tests) or roles/."""
    return pathlib.Path(os.environ.get("MAIL_CONFORMANCE_ROLES") or ROLES_DIR)


def production_values(directory: pathlib.Path | None = None) -> dict:
    """{variable: production value}: every role's defaults/main.yml (read statically)."""
    values: dict = {}
    for path in sorted((directory or roles_dir()).glob("*/defaults/main.yml")):
        values.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return values


def _check_lab_switches(name: str, value, production: dict) -> list[str]:
    """The `lab_switches:` list: role variables, each with a production value (its role default)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{name}: lab_switches must be a non-empty list of role variable names")
    unknown = [v for v in value if v not in production]
    if unknown:
        raise ValueError(f"{name}: lab_switches {unknown} are not role variables (no default in "
                         f"{roles_dir()}/*/defaults/main.yml gives their production value)")
    return value


def controls_dir() -> pathlib.Path:
    """The catalogue in use: $MAIL_CONFORMANCE_CONTROLS (the plugin's own tests) or the project's."""
    return pathlib.Path(os.environ.get("MAIL_CONFORMANCE_CONTROLS") or CONTROLS_DIR)


def load_controls(directory: pathlib.Path | None = None) -> dict[str, Control]:
    """Every control by id. Raises ValueError naming the file and entry on a malformed or duplicate control."""
    directory = directory or controls_dir()
    controls: dict[str, Control] = {}
    production: dict | None = None
    for path in sorted(directory.glob("*.yml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(entries, list):
            raise ValueError(f"{path.name}: must be a list of controls")
        for n, entry in enumerate(entries, 1):
            missing = [k for k in REQUIRED if not entry.get(k)] if isinstance(entry, dict) else list(REQUIRED)
            if missing:
                name = entry.get("id", "?") if isinstance(entry, dict) else repr(entry)
                raise ValueError(f"{path.name} entry {n} ({name}): missing {', '.join(missing)}")
            unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
            if unknown:
                raise ValueError(f"{path.name} {entry['id']}: unknown keys {unknown}")
            if entry["id"] in controls:
                raise ValueError(f"{path.name}: control {entry['id']} is also defined in {controls[entry['id']].file}")
            source = entry["source"] if isinstance(entry["source"], list) else [entry["source"]]
            na = (_check_not_applicable(f"{path.name} {entry['id']}", entry["not_applicable"])
                  if "not_applicable" in entry else [])
            switches = []
            if "lab_switches" in entry:
                production = production_values() if production is None else production
                switches = _check_lab_switches(f"{path.name} {entry['id']}", entry["lab_switches"], production)
            controls[entry["id"]] = Control(entry["id"], entry["area"], entry["title_en"], entry["title_vi"],
                                            [str(s) for s in source], entry["how"], path.name,
                                            not_applicable=na, lab_switches=switches)
    return controls


def _marker_ids(decorators: list[ast.expr]) -> list[str]:
    ids = []
    for node in decorators:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "control"
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark"):
            for arg in node.args:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    raise ValueError(f"line {node.lineno}: control ids must be string literals")
                ids.append(arg.value)
    return ids


def scan_file(path: pathlib.Path) -> dict[str, list[str]]:
    """{function name: [control ids]} for every `def test_*` of one file that carries the marker,
    wherever it is defined (a test nested in a helper is found too: pytest never collects it, and
    the plugin and the catalogue check call that out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module_ids: list[str] = []
    for node in tree.body:  # pytestmark = pytest.mark.control(...) applies to every test
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
            values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
            module_ids += _marker_ids(values)
    found: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            ids = module_ids + _marker_ids(node.decorator_list)
            if ids:
                found[node.name] = ids
    return found


def test_files(base: pathlib.Path):
    return [p for p in sorted(base.rglob("test_*.py")) if ".venv" not in p.parts]


def test_dirs() -> tuple[pathlib.Path, ...]:
    """Where tests live: $MAIL_CONFORMANCE_TEST_DIRS (os.pathsep list; the plugin's own tests) or tests/, molecule/."""
    env = os.environ.get("MAIL_CONFORMANCE_TEST_DIRS")
    return tuple(pathlib.Path(p) for p in env.split(os.pathsep) if p) if env else TEST_DIRS


def _relative(path: pathlib.Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def scan_tests(dirs: tuple[pathlib.Path, ...] | None = None) -> dict[str, list[str]]:
    """{test id ("path::test_name"): [control ids]} for every marked test function."""
    found: dict[str, list[str]] = {}
    for base in dirs or test_dirs():
        for path in test_files(base):
            for name, ids in scan_file(path).items():
                found[f"{_relative(path)}::{name}"] = ids
    return found


def suite_of(test_path: str) -> str:
    """The suite (directory with the conftest that runs it) a test file belongs to:
    molecule/<scenario>/tests, tests/<suite>, or the file's own directory."""
    parts = pathlib.PurePath(test_path).parts
    if len(parts) >= 3 and parts[0] == "molecule" and parts[2] == "tests":
        return "/".join(parts[:3])
    if len(parts) >= 2 and parts[0] == "tests":
        return "/".join(parts[:2])
    return str(pathlib.PurePath(test_path).parent)


def imports_audit(directory: pathlib.Path) -> bool:
    """Whether a test directory's modules import the read-only checks (`from tests.audit... import`):
    then its runs run them too, as its own modules' tests."""
    for path in test_files(directory):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[:2] == AUDIT_SUITE.split("/"):
                return True
    return False


def runs_of_suites() -> dict[str, list[str]]:
    """{suite: [run names]}: the Molecule scenarios whose verifier runs each molecule test
    directory (molecule.yml verifier.directory, default tests/), `unit` and `preflight`; and
    the read-only checks (tests/audit): `audit` (playbooks/audit.yml) and the scenarios whose
    test directory imports them."""
    runs: dict[str, list[str]] = {"tests/unit": ["unit"], "tests/preflight": ["preflight"]}
    for scenario in sorted((ROOT / "molecule").glob("*/molecule.yml")):
        data = yaml.safe_load(scenario.read_text(encoding="utf-8")) or {}
        directory = ((data.get("verifier") or {}).get("directory")) or "tests"
        suite = _relative(scenario.parent / directory)
        runs.setdefault(suite, []).append(scenario.parent.name)
    runs[AUDIT_SUITE] = [run for suite, names in runs.items() if suite.startswith("molecule/")
                         and imports_audit(ROOT / suite) for run in names] + ["audit"]
    return runs


def catalogue() -> dict[str, Control]:
    """Controls with the tests that prove each filled in (static: what the source declares)."""
    controls = load_controls()
    for test, ids in scan_tests().items():
        for cid in ids:
            if cid in controls:
                controls[cid].tests.append(test)
    return controls
