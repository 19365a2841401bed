"""The conformance catalogue: controls (tests/conformance/controls/*.yml) and
the tests that prove them (@pytest.mark.control("ID") in any test file).

Read statically (YAML + the test files' syntax trees), so the build can check
the catalogue without running a single container.
"""

from __future__ import annotations

import ast
import pathlib
from dataclasses import dataclass, field

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONTROLS_DIR = ROOT / "tests" / "conformance" / "controls"
TEST_DIRS = (ROOT / "tests", ROOT / "molecule")
REQUIRED = ("id", "area", "title_en", "title_vi", "source", "how")


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


def load_controls(directory: pathlib.Path = CONTROLS_DIR) -> dict[str, Control]:
    """Every control by id. Raises ValueError naming the file and entry on a malformed or duplicate control."""
    controls: dict[str, Control] = {}
    for path in sorted(directory.glob("*.yml")):
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(entries, list):
            raise ValueError(f"{path.name}: must be a list of controls")
        for n, entry in enumerate(entries, 1):
            missing = [k for k in REQUIRED if not entry.get(k)] if isinstance(entry, dict) else list(REQUIRED)
            if missing:
                name = entry.get("id", "?") if isinstance(entry, dict) else repr(entry)
                raise ValueError(f"{path.name} entry {n} ({name}): missing {', '.join(missing)}")
            unknown = sorted(set(entry) - set(REQUIRED))
            if unknown:
                raise ValueError(f"{path.name} {entry['id']}: unknown keys {unknown}")
            if entry["id"] in controls:
                raise ValueError(f"{path.name}: control {entry['id']} is also defined in {controls[entry['id']].file}")
            source = entry["source"] if isinstance(entry["source"], list) else [entry["source"]]
            controls[entry["id"]] = Control(entry["id"], entry["area"], entry["title_en"], entry["title_vi"],
                                            [str(s) for s in source], entry["how"], path.name)
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


def scan_tests(dirs: tuple[pathlib.Path, ...] = TEST_DIRS) -> dict[str, list[str]]:
    """{test id ("path::test_name"): [control ids]} for every marked test function."""
    found: dict[str, list[str]] = {}
    for base in dirs:
        for path in sorted(base.rglob("test_*.py")):
            if ".venv" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            module_ids: list[str] = []
            for node in tree.body:  # pytestmark = pytest.mark.control(...) applies to every test
                if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in node.targets):
                    values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
                    module_ids += _marker_ids(values)
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                    ids = module_ids + _marker_ids(node.decorator_list)
                    if ids:
                        found[f"{path.relative_to(ROOT)}::{node.name}"] = ids
    return found


def catalogue() -> dict[str, Control]:
    """Controls with the tests that prove each filled in."""
    controls = load_controls()
    for test, ids in scan_tests().items():
        for cid in ids:
            if cid in controls:
                controls[cid].tests.append(test)
    return controls
