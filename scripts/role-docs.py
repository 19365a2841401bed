#!/usr/bin/env python3
"""Render each role's variable table from meta/argument_specs.yml into its README.

    scripts/role-docs.py          rewrite the tables in roles/*/README.md
    scripts/role-docs.py --check  exit 1 when a README's table is out of date

The table sits between the markers below; the rest of the README is prose.
"""

from __future__ import annotations

import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN VARIABLES (scripts/role-docs.py) -->"
END = "<!-- END VARIABLES -->"


def _cell(value) -> str:
    text = " ".join(value) if isinstance(value, list) else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _default(spec: dict) -> str:
    if spec.get("required"):
        return "**required**"
    if "default" not in spec:
        return ""
    return "`" + _cell(yaml.safe_dump(spec["default"], default_flow_style=True, allow_unicode=True).strip()
                       .removesuffix("...").strip()) + "`"


def table(role: pathlib.Path) -> str:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]
    rows = ["| Variable | Type | Default | Description |", "|---|---|---|---|"]
    for name, spec in specs.get("options", {}).items():
        kind = spec.get("type", "str")
        if kind == "list" and "elements" in spec:
            kind = f"list of {spec['elements']}"
        if "choices" in spec:
            kind += " (" + ", ".join(str(c) for c in spec["choices"]) + ")"
        rows.append(f"| `{name}` | {kind} | {_default(spec)} | {_cell(spec.get('description', ''))} |")
    return "\n".join(rows)


def render(readme: str, new_table: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise SystemExit(f"README lacks the markers {BEGIN} ... {END}")
    head, rest = readme.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{new_table}\n{END}{tail}"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for role in sorted((ROOT / "roles").iterdir()):
        readme_path = role / "README.md"
        if not (role / "meta" / "argument_specs.yml").exists():
            continue
        if not readme_path.exists():
            stale.append(f"{readme_path.relative_to(ROOT)} (missing)")
            continue
        readme = readme_path.read_text()
        new = render(readme, table(role))
        if new != readme:
            stale.append(str(readme_path.relative_to(ROOT)))
            if not check:
                readme_path.write_text(new)
    if check and stale:
        print("out of date (run scripts/role-docs.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
