"""The documentation says what the repository holds: the picture is rendered from its source,
the architecture document names files that exist, and the README links only inside the checkout."""

from __future__ import annotations

import hashlib
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
DOT = DOCS / "architecture.dot"
SVG = DOCS / "architecture.svg"
# The line `make docs` writes into the SVG, right after the XML declaration.
SOURCE_LINE = re.compile(r"<!-- source: docs/architecture\.dot sha256 ([0-9a-f]{64}) -->")
# Repository paths named in backticks: `roles/backup_client/defaults/main.yml`, `plugins/plugin_utils/`.
TOP_DIRS = ("roles", "playbooks", "plugins", "tests", "molecule", "inventories", "scripts", "docs", ".config")
PATH_IN_BACKTICKS = re.compile(r"`((?:%s)/[^`\s<>*{}]*)`" % "|".join(re.escape(d) for d in TOP_DIRS))
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_svg_is_rendered_from_the_current_dot_file():
    recorded = SOURCE_LINE.search(SVG.read_text(encoding="utf-8"))
    assert recorded, f"{SVG.relative_to(ROOT)} has no source line: render it with `make docs`"
    current = hashlib.sha256(DOT.read_bytes()).hexdigest()
    assert recorded.group(1) == current, (
        f"{SVG.relative_to(ROOT)} was rendered from another {DOT.relative_to(ROOT)} "
        f"(sha256 {recorded.group(1)[:12]}..., now {current[:12]}...): run `make docs` and commit both"
    )


def test_the_svg_is_a_whole_svg_document():
    root = ET.parse(SVG).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for group in ("mail_mx", "mail_store", "mail_backup"):
        assert any(group in (t or "") for t in texts), f"the picture does not name the group {group}"


def test_the_picture_names_every_role_of_site_yml_s_table():
    """Each role of site.yml's table (__site_roles) is in the picture, as a whole word (not inside
    mail_mx or a path); `mail` is also an ordinary word there ("other mail servers"), so the mail
    role is looked for as "mail role"."""
    texts = " ".join(t.text or "" for t in ET.parse(SVG).getroot().iter("{http://www.w3.org/2000/svg}text"))
    missing = [role for role in _site_role_groups()
               if not re.search(r"(?<![\w/.-])%s(?![\w/-])" % re.escape("mail role" if role == "mail" else role),
                                texts)]
    assert not missing, f"the picture (docs/architecture.dot) does not name the role(s) {missing}: add them, `make docs`"


@pytest.mark.parametrize("doc", ["docs/ARCHITECTURE.md", "README.md"])
def test_every_repository_path_a_document_names_exists(doc):
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = sorted({m.rstrip(".,:;") for m in PATH_IN_BACKTICKS.findall(text)})
    assert named, f"{doc} names no repository path"
    missing = [p for p in named if not (ROOT / p).exists()]
    assert not missing, f"{doc} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", ["docs/ARCHITECTURE.md", "README.md"])
def test_links_stay_inside_the_repository_and_resolve(doc):
    path = ROOT / doc
    bad = []
    for target in MARKDOWN_LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+://", target) or target.startswith("#"):
            continue
        resolved = (path.parent / target.split("#", 1)[0]).resolve()
        if ROOT not in resolved.parents and resolved != ROOT or not resolved.exists():
            bad.append(target)
    assert not bad, f"{doc} links outside the repository or to nothing: {bad}"


def _site_role_groups() -> dict[str, set[str]]:
    """Role -> the groups site.yml's table (__site_roles) runs it on."""
    import yaml

    plays = yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text(encoding="utf-8"))
    table = next(p["vars"]["__site_roles"] for p in plays if "__site_roles" in (p.get("vars") or {}))
    out: dict[str, set[str]] = {}
    for row in table:
        out.setdefault(row.get("role", row["name"]), set()).update(row["groups"])
    return out


def test_the_readme_finds_every_role_in_one_hop():
    """README's "Where a setting lives": one row per role, with the groups of site.yml's
    table, a link to its README and one to its argument spec."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Where a setting lives", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| \[([a-z0-9_]+)\]\(roles/\1/README\.md\) \| ([^|]+) \|[^|]+\| "
                     r"\[argument spec\]\(roles/\1/meta/argument_specs\.yml\) \|$", line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`([a-z0-9_]+)`", m.group(2)))
    roles = {p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()}
    assert set(rows) == roles, f"rows without a role: {set(rows) - roles}; roles without a row: {roles - set(rows)}"
    site = _site_role_groups()
    wrong = {r: (g, site.get(r)) for r, g in rows.items() if g != site.get(r)}
    assert not wrong, f"README's groups (left) differ from site.yml's __site_roles (right): {wrong}"
