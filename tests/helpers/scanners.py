"""Figures of the independent scanners, per host: reports/scanners-<host>.txt.

molecule/default/tests/conftest.py prints them at the end of verify.
"""

from __future__ import annotations

from .lab import ROOT

REPORTS = ROOT / "reports"


def record(mail, key: str, value) -> None:
    """Write (or replace) the line `key: value` in the host's scanner figures."""
    REPORTS.mkdir(exist_ok=True)
    path = REPORTS / f"scanners-{mail.name}.txt"
    lines = [line for line in (path.read_text().splitlines() if path.exists() else []) if not line.startswith(key + ":")]
    lines.append(f"{key}: {value}")
    path.write_text("\n".join(sorted(lines)) + "\n")
