"""The lab's package images (scripts/build-images.sh trixie-base, trixie-mail) hold only what the roles install."""

from __future__ import annotations

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


LISTS = ("base-packages.txt", "mail-packages.txt")
WEBMAIL = "webmail-no-recommends:"  # the line build-images.sh installs without recommends


def _listed() -> list[str]:
    text = "\n".join((ROOT / "lab" / name).read_text(encoding="utf-8") for name in LISTS)
    return [word for line in text.splitlines() for word in line.split("#", 1)[0].split() if word != WEBMAIL]


def _role_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for d in ("defaults", "vars", "tasks")
                     for p in sorted(ROOT.glob(f"roles/*/{d}/*.yml")))


def test_every_baked_package_is_one_a_role_installs():
    roles = _role_text()
    # a package name as a YAML list item or flow-list member in a role: "- name", "[a, name]", 'name'
    missing = [pkg for pkg in _listed()
               if not re.search(rf"(^|[\s\[,'\"-]){re.escape(pkg)}($|[\s\],'\"])", roles, re.M)]
    assert not missing, f"lab/{' or '.join(LISTS)} names packages no role installs: {missing}"


def test_the_list_names_each_package_once_and_nothing_a_role_removes():
    listed = _listed()
    assert len(listed) == len(set(listed)), sorted({p for p in listed if listed.count(p) > 1})
    absent = re.search(r"hardening_packages_absent:\n((?:\s+- .*\n)+)",
                       (ROOT / "roles/hardening/defaults/main.yml").read_text(encoding="utf-8"))
    assert absent, "hardening_packages_absent not found"
    removed = set(re.findall(r"- (\S+)", absent.group(1)))
    assert not removed & set(listed), removed & set(listed)


def test_the_webmail_packages_are_the_roles_sqlite_set_installed_without_recommends():
    """The webmail role installs its packages without recommends (roundcube-core recommends apache2, which
    would take port 80 from nginx): the image installs exactly the role's SQLite set that way, and nothing
    of PostgreSQL (a mail host of the image that is no pgsql webmail host would run a database server)."""
    line = next(line for line in (ROOT / "lab" / "mail-packages.txt").read_text(encoding="utf-8").splitlines()
                if line.startswith(WEBMAIL))
    listed = line[len(WEBMAIL):].split("#", 1)[0].split()
    spec = yaml.safe_load((ROOT / "roles/webmail/vars/main.yml").read_text(encoding="utf-8"))
    assert listed == spec["__webmail_common_packages"] + spec["__webmail_db_packages"]["sqlite"], listed
    assert "postgresql" not in _listed()

