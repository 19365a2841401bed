"""Roles talk only through declared inputs (issue #15, STYLE.md 13).

For every role, every variable its tasks, handlers, templates, defaults and vars read
(each templated string parsed by Jinja, each template file too) must be one of:

- declared in the role's meta/argument_specs.yml (any entry point),
- defined by the role itself: defaults/, vars/, a task's or block's ``vars:``,
  ``register:``, ``set_fact:``, ``loop_control.loop_var``,
- a magic variable or fact (``inventory_hostname``, ``group_names``, ``hostvars``,
  ``ansible_*``, ``item`` ...).

Two more ways to read what the role does not declare are refused:

- looking variables up by name (``lookup('vars', ...)``, ``query('varnames', ...)``):
  a literal name counts as a read of that name, a computed name is refused;
- naming an inventory group in an expression (``'mail_mx' in group_names``): the role
  takes the group names, or what follows from them, as a declared input.

A failure names the role, the variable and the file.
"""

from __future__ import annotations

import pathlib
import re
import warnings

import jinja2
import jinja2.meta
import jinja2.nodes
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())

# Variables Ansible itself provides (magic variables, connection variables, the
# template module's, Jinja's globals and Ansible's lookup functions).
MAGIC = {
    "inventory_hostname", "inventory_hostname_short", "inventory_dir", "inventory_file",
    "group_names", "groups", "hostvars", "play_hosts", "playbook_dir", "role_path",
    "role_name", "role_names", "omit", "item", "environment", "vars",
    "lookup", "query", "q", "now", "undef", "range", "dict", "lipsum", "cycler",
    "joiner", "namespace", "loop",
    "template_host", "template_path", "template_fullpath", "template_destpath",
    "template_run_date", "template_uid",
}
MAGIC_PREFIXES = ("ansible_",)

# Bare Jinja expressions (no braces) in these task keywords.
BARE_KEYS = {"when", "changed_when", "failed_when", "until"}

# The inventories' group names: a role must not name them.
def _inventory_groups() -> set[str]:
    groups: set[str] = set()

    def walk(node):
        for name, sub in (node or {}).get("children", {}).items():
            groups.add(name)
            walk(sub)

    for hosts in (ROOT / "inventories").glob("*/hosts.yml"):
        walk(yaml.safe_load(hosts.read_text()).get("all", {}))
    return groups


INVENTORY_GROUPS = _inventory_groups()

# Known violations not fixed yet: (role, variable) -> reason. This list may only shrink:
# an entry that no longer matches a violation fails the test too. It is empty: the
# cross-role checks (a role's input against another role's, or against the mail_*
# layer) are site.yml's preflight, in playbooks/tasks/check_joins.yml.
ALLOWED: dict[tuple[str, str], str] = {}


class _AnyName(dict):
    """Filters and tests: Ansible's and the collection's, all names accepted (we only parse)."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return lambda *a, **k: None

    def get(self, name, default=None):
        return self[name]


ENV = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
ENV.filters = _AnyName()
ENV.tests = _AnyName()
VARS_LOOKUPS = {"vars", "ansible.builtin.vars", "varnames", "ansible.builtin.varnames"}


def _load(path: pathlib.Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


def _role_yaml(role: pathlib.Path, sub: str):
    d = role / sub
    return sorted(d.rglob("*.yml")) if d.is_dir() else []


def _reads_of(source: str):
    """Names a Jinja source reads, plus literal group names and vars lookups."""
    with warnings.catch_warnings():
        # Jinja reads string literals as Python does: '\.' in a regex is a
        # DeprecationWarning there, and what Ansible parses too.
        warnings.simplefilter("ignore", DeprecationWarning)
        ast = ENV.parse(source)
    # Names the source assigns itself anywhere ({% set %}, {% for %}, macro arguments):
    # jinja2.meta loses some of them across nested loop scopes.
    own = {n.name for n in ast.find_all(jinja2.nodes.Name) if n.ctx in ("store", "param")}
    names = set(jinja2.meta.find_undeclared_variables(ast)) - own
    problems = []
    for call in ast.find_all(jinja2.nodes.Call):
        fn = call.node
        if isinstance(fn, jinja2.nodes.Name) and fn.name in {"lookup", "query", "q"} and call.args:
            kind = call.args[0]
            if isinstance(kind, jinja2.nodes.Const) and kind.value in VARS_LOOKUPS:
                rest = call.args[1:]
                if "varnames" in kind.value or not rest or not all(
                    isinstance(a, jinja2.nodes.Const) for a in rest
                ):
                    problems.append(f"looks variables up by a computed name ({kind.value})")
                else:
                    names.update(a.value for a in rest)
    for const in ast.find_all(jinja2.nodes.Const):
        if isinstance(const.value, str) and const.value in INVENTORY_GROUPS:
            problems.append(f"names the inventory group {const.value!r}")
    return names, problems


def _strings(node, key=None):
    """(source, is_bare) for every string in a YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, k)
    elif isinstance(node, list):
        for v in node:
            if key in BARE_KEYS or key == "that":
                yield from _strings(v, key)
            else:
                yield from _strings(v)
    elif isinstance(node, str):
        if key in BARE_KEYS or key == "that":
            yield "{{ " + node + " }}"
        elif "{{" in node or "{%" in node:
            yield node


def _tasks(node):
    """Every task/block dict in a task list, recursively, and every check of a gialai.mail.checks task
    (a check defines its own ``vars:`` and ``loop_var``, as a task does)."""
    if isinstance(node, list):
        for t in node:
            yield from _tasks(t)
    elif isinstance(node, dict):
        yield node
        for k in ("block", "rescue", "always"):
            if k in node:
                yield from _tasks(node[k])
        for check in (node.get("gialai.mail.checks") or {}).get("checks") or []:
            yield check


def _defined(role: pathlib.Path) -> set[str]:
    names: set[str] = set()
    specs = _load(role / "meta" / "argument_specs.yml") or {}
    for entry in (specs.get("argument_specs") or {}).values():
        names.update((entry or {}).get("options") or {})
    for sub in ("defaults", "vars"):
        for f in _role_yaml(role, sub):
            names.update(_load(f) or {})
    for f in _role_yaml(role, "tasks") + _role_yaml(role, "handlers"):
        for task in _tasks(_load(f)):
            names.update(task.get("vars") or {})
            if "register" in task:
                names.add(task["register"])
            for mod in ("set_fact", "ansible.builtin.set_fact"):
                if isinstance(task.get(mod), dict):
                    names.update(k for k in task[mod] if k != "cacheable")
            loop_var = (task.get("loop_control") or {}).get("loop_var") or task.get("loop_var")
            if loop_var:
                names.add(loop_var)
    return names


def _reads(role: pathlib.Path):
    """(variable or problem, file) for everything the role reads."""
    for sub in ("tasks", "handlers", "defaults", "vars"):
        for f in _role_yaml(role, sub):
            for src in _strings(_load(f)):
                names, problems = _reads_of(src)
                for n in names:
                    yield n, f
                for p in problems:
                    yield p, f
    tdir = role / "templates"
    if tdir.is_dir():
        for f in sorted(p for p in tdir.rglob("*") if p.is_file()):
            names, problems = _reads_of(f.read_text())
            for n in names:
                yield n, f
            for p in problems:
                yield p, f


def _violations(role: pathlib.Path) -> dict[str, set[str]]:
    defined = _defined(role)
    out: dict[str, set[str]] = {}
    for name, f in _reads(role):
        if " " not in name and (
            name in defined or name in MAGIC or name.startswith(MAGIC_PREFIXES)
        ):
            continue
        out.setdefault(name, set()).add(str(f.relative_to(ROOT)))
    return out


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_role_reads_only_its_declared_inputs(role):
    found = _violations(role)
    unexpected = {n: fs for n, fs in found.items() if (role.name, n) not in ALLOWED}
    assert not unexpected, "\n".join(
        f"role {role.name}: {name} (in {', '.join(sorted(files))})"
        if " " in name
        else f"role {role.name}: reads {name} (in {', '.join(sorted(files))}), which its "
        "meta/argument_specs.yml does not declare and the role does not define"
        for name, files in sorted(unexpected.items())
    )
    stale = [n for (r, n) in ALLOWED if r == role.name and n not in found]
    assert not stale, f"role {role.name}: allowlist entries no longer needed, remove them: {stale}"


def test_the_allowlist_names_existing_roles_and_gives_reasons():
    names = {r.name for r in ROLES}
    for (role, _), reason in ALLOWED.items():
        assert role in names and reason.strip(), (role, reason)


def test_the_check_catches_an_undeclared_read_a_lookup_and_a_group_name():
    names, problems = _reads_of(
        "{{ dovecot_vmail_dir }} {{ lookup('ansible.builtin.vars', 'postfix_postmaster') }}"
        " {{ query('ansible.builtin.varnames', '^x_') }}"
        " {% if 'mail_mx' in group_names %}x{% endif %}"
    )
    assert {"dovecot_vmail_dir", "postfix_postmaster"} <= names
    assert any("varnames" in p for p in problems)
    assert any("mail_mx" in p for p in problems)
    assert re.search("mail_", " ".join(sorted(INVENTORY_GROUPS)))


def test_the_tls_directory_is_an_input_never_a_literal_in_role_code():
    """One variable holds the TLS directory: role code reads it from an input (tls_dir,
    postfix_tls_cert_file, hardening_auditd_tls_dir ...); only defaults spell it out."""
    found = [
        str(f.relative_to(ROOT))
        for role in ROLES
        for sub in ("tasks", "handlers", "templates", "vars")
        if (role / sub).is_dir()
        for f in sorted((role / sub).rglob("*"))
        if f.is_file() and "/etc/ssl/mail" in f.read_text()
    ]
    assert not found, f"/etc/ssl/mail written literally in {found}: read the role's TLS input instead"


TLS_DIR_HOME = "playbooks/group_vars/all/mail.yml"
# Each role documents its own default (defaults, argument spec, README): those name it too.
TLS_DIR_DEFAULTS = re.compile(r"^roles/[a-z_0-9]+/(defaults/main[.]yml|meta/argument_specs[.]yml|README[.]md)$")


def _tracked_files() -> list[str]:
    import subprocess

    return subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_the_tls_directory_is_written_once_outside_the_role_defaults():
    """The TLS role's tls_dir, bound once in playbooks/group_vars/all/mail.yml, holds the TLS
    directory; the playbooks (audit.yml, dns-records.yml), inventories, plugins and the audit's
    checks read it (or the files bound from it), never a fallback literal. The lab's own tests
    (molecule/, tests/ but tests/audit) and the CHANGELOG's history may name it."""
    literal = "/etc/ssl/mail"
    found = []
    for name in _tracked_files():
        if name == "CHANGELOG.md" or TLS_DIR_DEFAULTS.match(name) or name == "tests/unit/test_role_inputs.py":
            continue
        if (name.startswith(("molecule/", "tests/")) and not name.startswith("tests/audit/")):
            continue
        path = ROOT / name
        if path.is_file() and not path.is_symlink() and literal in path.read_text(errors="replace"):
            found.append(name)
    assert found == [TLS_DIR_HOME], f"{literal} written outside its one home {TLS_DIR_HOME}: {found}"
    home = (ROOT / TLS_DIR_HOME).read_text()
    assert home.count(literal) == 1 and f"\ntls_dir: {literal}\n" in home


def _guarded(ast) -> tuple[set[int], set[str]]:
    """Names read through ``default()`` (X | default(..), X.y | default(..)), and names tested
    with ``is defined``/``is undefined``: undefined there is an answer, not an error."""
    ids, names = set(), set()
    for f in ast.find_all(jinja2.nodes.Filter):
        if f.name in ("default", "d"):
            n = f.node
            while isinstance(n, (jinja2.nodes.Getattr, jinja2.nodes.Getitem)):
                n = n.node
            if isinstance(n, jinja2.nodes.Name):
                ids.add(id(n))
    for t in ast.find_all(jinja2.nodes.Test):
        if t.name in ("defined", "undefined") and isinstance(t.node, jinja2.nodes.Name):
            names.add(t.node.name)
    return ids, names


def _unguarded_reads_of_other_files_results(role: pathlib.Path) -> list[str]:
    files = _role_yaml(role, "tasks")
    registered: dict[str, set[pathlib.Path]] = {}
    for f in files:
        for task in _tasks(_load(f)):
            if "register" in task:
                registered.setdefault(task["register"], set()).add(f)
    out = []
    for f in files:
        for src in _strings(_load(f)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # as in _reads_of
                ast = ENV.parse(src)
            ids, names = _guarded(ast)
            for n in ast.find_all(jinja2.nodes.Name):
                if (n.ctx == "load" and f not in registered.get(n.name, {f})
                        and id(n) not in ids and n.name not in names):
                    out.append(f"{f.relative_to(ROOT)} reads {n.name}, registered in "
                               f"{', '.join(sorted(str(x.relative_to(ROOT)) for x in registered[n.name]))}")
    return sorted(set(out))


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_a_task_file_reads_another_files_registered_result_only_with_a_default(role):
    """A task file runs alone under its tag (--tags dkim_service): a result registered by another
    file is then undefined, and reading it bare fails the run. It is read as X | default({})."""
    found = _unguarded_reads_of_other_files_results(role)
    assert not found, "\n".join(found)
