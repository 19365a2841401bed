"""The mail_* data has one declaration: roles/mail/meta/argument_specs.yml (issue #15).

Every ``mail_*`` variable that the playbooks (with the mail_* layer,
playbooks/group_vars/all/mail.yml), the roles, the inventories and the Molecule
scenarios read (each templated string parsed by Jinja) or set (group_vars/host_vars
files, ``vars:``, ``set_fact:``) must be declared in that spec or be one the layer
itself sets (its derived values). Everything declared must be read somewhere other
than the mail role's own checks, and nothing the layer sets may be declared as input
(the layer outranks an inventory's group_vars/all: such an input would be ignored).
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

from tests.unit.test_role_inputs import _reads_of, _strings

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "roles" / "mail" / "meta" / "argument_specs.yml"
LAYER = ROOT / "playbooks" / "group_vars" / "all" / "mail.yml"
# mail_* names with another owner than the inventory's data, and why.
OTHER_OWNERS = {
    "mail_audit_run": "playbooks/audit.yml's report directory, given with -e",
    "mail_audit_address": "playbooks/audit.yml: the address an audit inventory gives a host it cannot reach by name",
}
DEFINING_KEYS = ("vars", "set_fact", "ansible.builtin.set_fact", "host_vars", "group_vars")


def _yaml_files(root: pathlib.Path) -> list[pathlib.Path]:
    files = [*(root / "playbooks").rglob("*.yml"), *(root / "inventories").rglob("*.yml"),
             *(root / "molecule").rglob("*.yml"), *(root / ".config" / "molecule").rglob("*.yml")]
    for role in sorted((root / "roles").iterdir()) if (root / "roles").is_dir() else []:
        for sub in ("tasks", "handlers", "defaults", "vars"):
            files += (role / sub).rglob("*.yml")
    return sorted(set(files))


def _templates(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in (root / "roles").glob("*/templates/**/*") if p.is_file())


def _set_keys(node, out: set[str]):
    """mail_* keys under vars:, set_fact:, host_vars/group_vars (Molecule) anywhere in a YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in DEFINING_KEYS and isinstance(v, dict):
                out.update(n for n in v if isinstance(n, str) and n.startswith("mail_"))
            _set_keys(v, out)
    elif isinstance(node, list):
        for v in node:
            _set_keys(v, out)


def mail_variables(root: pathlib.Path) -> dict[str, dict[str, set[str]]]:
    """{"read": {name: files}, "set": {name: files}} for every mail_* variable under root."""
    read: dict[str, set[str]] = {}
    set_: dict[str, set[str]] = {}
    for path in _yaml_files(root):
        rel = str(path.relative_to(root))
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for src in _strings(data):
            for name in _reads_of(src)[0]:
                if name.startswith("mail_"):
                    read.setdefault(name, set()).add(rel)
        found: set[str] = set()
        if ("group_vars" in path.parts or "host_vars" in path.parts) and isinstance(data, dict):
            found.update(n for n in data if str(n).startswith("mail_"))
        _set_keys(data, found)
        for name in found:
            set_.setdefault(name, set()).add(rel)
    for path in _templates(root):
        for name in _reads_of(path.read_text(encoding="utf-8"))[0]:
            if name.startswith("mail_"):
                read.setdefault(name, set()).add(str(path.relative_to(root)))
    return {"read": read, "set": set_}


def _declared(root: pathlib.Path) -> set[str]:
    specs = yaml.safe_load((root / "roles" / "mail" / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return set(specs["main"]["options"])


def _layer(root: pathlib.Path) -> set[str]:
    data = yaml.safe_load((root / "playbooks" / "group_vars" / "all" / "mail.yml").read_text()) or {}
    return {n for n in data if n.startswith("mail_")}


def undeclared(root: pathlib.Path) -> dict[str, list[str]]:
    """mail_* variables read or set but neither declared in the spec nor set by the layer."""
    found = mail_variables(root)
    known = _declared(root) | _layer(root) | set(OTHER_OWNERS)
    out: dict[str, set[str]] = {}
    for kind in ("read", "set"):
        for name, files in found[kind].items():
            if name not in known:
                out.setdefault(name, set()).update(files)
    return {n: sorted(f) for n, f in sorted(out.items())}


def test_every_mail_variable_is_declared_or_set_by_the_layer():
    found = undeclared(ROOT)
    assert found == {}, "\n".join(
        f"{name} (in {', '.join(files)}) is not declared in roles/mail/meta/argument_specs.yml "
        "nor set by playbooks/group_vars/all/mail.yml" for name, files in found.items())


def test_every_declared_mail_variable_is_read_outside_the_mail_role():
    read = mail_variables(ROOT)["read"]
    unused = sorted(n for n in _declared(ROOT)
                    if not {f for f in read.get(n, ()) if not f.startswith("roles/mail/")})
    assert unused == [], f"declared in roles/mail/meta/argument_specs.yml but read nowhere: {unused}"


def test_the_layer_sets_no_declared_input():
    assert _declared(ROOT) & _layer(ROOT) == set()


def test_the_role_readme_names_what_the_layer_sets():
    readme = (ROOT / "roles" / "mail" / "README.md").read_text(encoding="utf-8")
    missing = sorted(n for n in _layer(ROOT) if f"`{n}`" not in readme)
    assert missing == [], f"roles/mail/README.md does not name these values the layer sets: {missing}"


def test_the_retention_months_the_spec_states_are_the_lifecycle_code_s():
    from ansible_collections.gialai.mail.plugins.plugin_utils import lifecycle

    options = yaml.safe_load(SPEC.read_text())["argument_specs"]["main"]["options"]
    assert f"Unset - {lifecycle.RETENTION_MONTHS} (RETENTION_MONTHS" in options["mail_retention_months"]["description"]
    assert (f"Unset - {lifecycle.LEADER_RETENTION_MONTHS} (LEADER_RETENTION_MONTHS"
            in options["mail_leader_retention_months"]["description"])


@pytest.mark.parametrize("where, text", [
    ("playbooks/tasks/check_accounts.yml", "- debug: {msg: '{{ mail_spare_domains }}'}\n"),
    ("inventories/lab/group_vars/all/mail.yml", "mail_spare_domains: [x.gov.vn]\n"),
    ("roles/postfix/templates/main.cf.j2", "{{ mail_spare_domains }}\n"),
])
def test_an_undeclared_mail_variable_is_found(tmp_path, where, text):
    for rel in (SPEC.relative_to(ROOT), LAYER.relative_to(ROOT)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text((ROOT / rel).read_text())
    (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / where).write_text(text)
    assert list(undeclared(tmp_path)) == ["mail_spare_domains"]
