"""The lab's package image (scripts/build-images.sh trixie-mail) holds only what the roles install."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _listed() -> list[str]:
    text = (ROOT / "lab" / "mail-packages.txt").read_text(encoding="utf-8")
    return [word for line in text.splitlines() for word in line.split("#", 1)[0].split()]


def _role_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in ("defaults", "vars", "tasks")
                     for p in sorted(ROOT.glob(f"roles/*/{d}/*.yml")))


def test_every_baked_package_is_one_a_role_installs():
    roles = _role_text()
    # a package name as a YAML list item or flow-list member in a role: "- name", "[a, name]", 'name'
    missing = [pkg for pkg in _listed()
               if not re.search(rf"(^|[\s\[,'\"-]){re.escape(pkg)}($|[\s\],'\"])", roles, re.M)]
    assert not missing, f"lab/mail-packages.txt names packages no role installs: {missing}"


def test_the_list_names_each_package_once_and_nothing_a_role_removes():
    listed = _listed()
    assert len(listed) == len(set(listed)), sorted({p for p in listed if listed.count(p) > 1})
    absent = re.search(r"hardening_packages_absent:\n((?:\s+- .*\n)+)",
                       (ROOT / "roles/hardening/defaults/main.yml").read_text(encoding="utf-8"))
    assert absent, "hardening_packages_absent not found"
    removed = set(re.findall(r"- (\S+)", absent.group(1)))
    assert not removed & set(listed), removed & set(listed)
