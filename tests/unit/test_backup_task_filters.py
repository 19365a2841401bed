"""The backup_client role's task files over tested filters instead of Jinja loops and chains:

- validate.yml's check of each repository: mail_backup_repository_problems (plugins/plugin_utils/
  backup.py), which replaced a chain of fourteen conditions;
- read_files.yml's ``{path: text}``: mail_backup_read_contents; archive.yml's archived and failed
  mailboxes: mail_backup_archive_results; the ``--repository``/``--include`` lists of archive.yml
  and restore.yml: mail_cli_options (plugins/plugin_utils/backup_runs.py).

The old expressions are kept below (OLD_*) and rendered through Ansible beside what the task files
hold now, read from the files: the same problems and the same message for every repository of 30
sets, the same contents, results, and command lines (split as the command module splits them).
"""

from __future__ import annotations

import pathlib
import shlex

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import mail_backup_repository_problems
from ansible_collections.gialai.mail.plugins.plugin_utils.backup_runs import (
    mail_backup_archive_results,
    mail_backup_read_contents,
    mail_backup_servers,
    mail_cli_options,
)
from tests.unit.test_backup_repositories import PASSWORD, _trusted, role_variables, template
from tests.unit.test_backup_repositories import REPOSITORY_SETS as ROLE_REPOSITORY_SETS

ROOT = pathlib.Path(__file__).resolve().parents[2]
TASKS = ROOT / "roles" / "backup_client" / "tasks"

# roles/backup_client/tasks/validate.yml's check of a repository before the filter (session 17).
OLD_REPOSITORY_VARS = {
    "__backup_url_pattern": "^(sftp:[^:/]+:/.+|sftp://[^/]+/.+|rest:https?://.+|s3:.+|b2:.+|azure:.+|gs:.+"
                            "|swift:.+|rclone:.+|/.+)$",
    "__server": "{{ item.server | default('') }}",
    "__url": "{{ item.url | default('') }}",
    "__problems": """\
{{ ([] if (item.name | default('')) is match('^[a-z0-9][a-z0-9-]{0,15}$')
    else ['name must be a-z, 0-9 and - (1 to 16 characters)'])
   + ([] if backup_repositories | selectattr("name", "defined") | map(attribute="name")
            | select("eq", item.name | default("")) | list | length <= 1
    else ['the name is used by another repository'])
   + ([] if (item.password | default('') | string | length) >= 12
    else ['the restic password is missing or shorter than 12 characters (set it in vault; losing it loses the backups)'])
   + ([] if (__server != '') != (__url != '')
    else ['needs exactly one of server (a host of the mail_backup group) or url (a restic repository)'])
   + ([] if __server == '' or __server in groups[backup_server_group] | default([])
    else ['backup host ' ~ __server ~ ' is not in the ' ~ backup_server_group ~ ' group of the inventory'])
   + ([] if __url == '' or __url is match(__backup_url_pattern)
    else ['url ' ~ (__url | regex_replace('//[^/@]*@', '//***@'))
          ~ ' is not a restic repository (sftp:host:/path, rest:https://..., s3:..., /absolute/path)'])
   + ([] if (backup_client_name ~ '-' ~ item.name | default('')) | length <= 32 or item.account is defined
    else ['the account name ' ~ backup_client_name ~ '-' ~ item.name ~ ' is longer than 32 characters: set account'])
   + ([] if item.env | default({}) is mapping
           and item.env | default({}) | reject('match', '^[A-Za-z_][A-Za-z0-9_]*$') | list == []
           and item.env | default({}) | dict2items | map(attribute='value') | reject('string') | list == []
    else ['env must map variable names (A-Z, 0-9, _) to strings (values not shown)']) }}""",
}
# read_files.yml and archive.yml before the filters.
OLD_READ_CONTENTS = """\
{%- set out = {} -%}
{%- for r in backup_read_dump.results if r.rc == 0 -%}
{%- set _ = out.update({r.item: r.stdout ~ '\\n'}) -%}
{%- endfor -%}
{{ out }}"""
OLD_ARCHIVED = ("{{ backup_archive_run.results | default([]) | selectattr('stdout', 'defined')"
                " | selectattr('stdout', 'match', '^[{]') | list }}")
OLD_FAILED = ("{{ backup_archive_run.results | default([]) | selectattr('rc', 'defined')"
              " | rejectattr('rc', 'eq', 0) | list }}")
OLD_REPOSITORY_OPTIONS = "{% for repo in backup_repositories %} --repository {{ repo.name | quote }}{% endfor %}"
OLD_INCLUDE_OPTIONS = "{% for inc in __includes + [__manifest] %} --include {{ inc | quote }}{% endfor %}"
# rebuild.yml's check that the run holds the backup hosts, before the filter (the part before difference)
OLD_SERVERS = ("{{ backup_repositories | default([]) | selectattr('server', 'defined') | map(attribute='server')"
               " | select | unique }}")

SHORT = "ngan-qua"
REPOSITORY_SETS = {
    "lab": ROLE_REPOSITORY_SETS["lab"],
    "production": ROLE_REPOSITORY_SETS["production"],
    "every_key": ROLE_REPOSITORY_SETS["every_key"],
    "names_wrong": [{"name": n, "url": "/srv/r", "password": PASSWORD}
                    for n in ("Primary", "-dash", "a" * 17, "a" * 16, "x_y", "copy\n", "", "ok-", "tr\u1ea7n")],
    "name_a_number": [{"name": 5, "url": "/srv/r", "password": PASSWORD}],
    "name_missing": [{"url": "/srv/r", "password": PASSWORD}, {"url": "/srv/s", "password": PASSWORD}],
    "name_null": [{"name": None, "url": "/srv/r", "password": PASSWORD}],
    "names_twice": [{"name": "primary", "url": "/a", "password": PASSWORD},
                    {"name": "primary", "url": "/b", "password": PASSWORD},
                    {"name": "Primary", "url": "/c", "password": PASSWORD}],
    "passwords": [{"name": f"p{n}", "url": "/a", "password": p}
                  for n, p in enumerate([SHORT, None, 123456789012, 12345678901, "x" * 12, "", ["a"] * 3])]
                 + [{"name": "nopass", "url": "/a"}],
    "server_and_url": [{"name": "both", "server": "bk-backup13", "url": "/srv/r", "password": PASSWORD}],
    "neither": [{"name": "none", "password": PASSWORD}],
    "empty_server_and_url": [{"name": "empty", "server": "", "url": "", "password": PASSWORD}],
    "server_elsewhere": [{"name": "far", "server": "mx1", "password": PASSWORD},
                         {"name": "null", "server": None, "password": PASSWORD}],
    "urls": [{"name": f"u{n}", "url": u, "password": PASSWORD} for n, u in enumerate([
        "sftp:bk:/srv/r", "sftp://bk/srv/r", "rest:https://user:pw@bk:8000/r/", "rest:http://bk/", "s3:x",
        "b2:bucket:r", "azure:c:/", "gs:b:/", "swift:c:/", "rclone:r:p", "/mnt/usb", "relative/path",
        "ftp://user:secret@bk/r", "sftp:bk:relative", "https://user:pw@x/ and //u2:p2@y", "", 7])],
    "long_client_name": [{"name": "primary-dc2-x", "server": "bk-backup13", "password": PASSWORD},
                         {"name": "copy-dc2-xyz", "server": "bk-backup13", "password": PASSWORD,
                          "account": "kho-copy"}],
    "env": [{"name": f"e{n}", "url": "/a", "password": PASSWORD, "env": e} for n, e in enumerate([
        {}, {"RESTIC_COMPRESSION": "max"}, {"lower_ok": "1"}, {"1BAD": "x"}, {"A-B": "x"}, {"A": 1},
        {"A": None}, {"A": ["x"]}, "A=1", None, ["A"], {5: "x"}, {"A\n": "x"}])],
    "not_mappings": ["primary", ["name", "primary"], None, 7],
}
CLIENT_NAMES = {"long_client_name": "store1-toa-nha-so-noi-vu"}


def _check() -> dict:
    checks = yaml.safe_load((TASKS / "validate.yml").read_text())[0]["gialai.mail.checks"]["checks"]
    return next(c for c in checks if c["name"] == "Check each repository (name, password, where it is)")


def _cases():
    for name, repos in REPOSITORY_SETS.items():
        for index in range(len(repos)):
            yield pytest.param(name, index, id=f"{name}-{index}")


@pytest.mark.parametrize("name, index", list(_cases()))
def test_the_repository_check_names_what_the_chain_named(name, index):
    check = _check()
    repos = REPOSITORY_SETS[name]
    variables = role_variables([], {"daily": 7})
    variables.update(backup_repositories=repos, __backup_index=index,
                     groups={"mail_backup": ["bk-backup13", "backup.gialai.gov.vn"], "mail_mx": ["mx1"]})
    if name in CLIENT_NAMES:
        variables["backup_client_name"] = CLIENT_NAMES[name]
    results = []
    for task_vars in (check["vars"], OLD_REPOSITORY_VARS):
        scope = dict(variables, **_trusted(dict(check["vars"], **task_vars)))
        problems = template("{{ __problems }}", scope)
        passed = template("{{ " + check["that"] + " }}", scope)
        said = template(check["msg"], scope) if not passed else None
        results.append((problems, passed, said))
    assert results[0] == results[1]
    assert results[0][0] == mail_backup_repository_problems(
        repos[index], repos, template("{{ backup_client_name }}", variables), variables["groups"]["mail_backup"],
        "mail_backup")
    if name in ("lab", "production"):
        assert results[0] == ([], True, None)
    assert "__server" not in check["vars"] and "mail_backup_repository_problems" in check["vars"]["__problems"]


def test_what_the_repository_check_names():
    hosts = ["bk1"]
    good = {"name": "primary", "server": "bk1", "password": PASSWORD}
    assert mail_backup_repository_problems(good, [good], "store1", hosts, "mail_backup") == []
    bad = {"name": "Primary", "server": "bk9", "url": "ftp://u:secret@x/r", "password": SHORT,
           "env": {"A": 1}}
    problems = mail_backup_repository_problems(bad, [bad], "store1", hosts, "mail_backup")
    assert problems == [
        "name must be a-z, 0-9 and - (1 to 16 characters)",
        "the restic password is missing or shorter than 12 characters (set it in vault; losing it loses the backups)",
        "needs exactly one of server (a host of the mail_backup group) or url (a restic repository)",
        "backup host bk9 is not in the mail_backup group of the inventory",
        "url ftp://***@x/r is not a restic repository (sftp:host:/path, rest:https://..., s3:..., /absolute/path)",
        "env must map variable names (A-Z, 0-9, _) to strings (values not shown)",
    ]
    assert SHORT not in " ".join(problems) and "secret" not in " ".join(problems)
    long = {"name": "primary-dc2", "server": "bk1", "password": PASSWORD}
    assert mail_backup_repository_problems(long, [long], "s" * 20, hosts, "mail_backup") == []  # 32: fits
    assert mail_backup_repository_problems(long, [long], "s" * 21, hosts, "mail_backup") == [
        f"the account name {'s' * 21}-primary-dc2 is longer than 32 characters: set account"]


RESULT_SETS = {
    "found": [{"item": "/etc/dkimkeys/a.vn/s.private", "rc": 0, "stdout": "-----BEGIN PRIVATE KEY-----\nK"},
              {"item": "/etc/dkimkeys/b.vn/se.private", "rc": 1, "stdout": "",
               "stderr": "path not found in snapshot"},
              {"item": "/etc/dkimkeys/c.vn/s.private", "rc": 0, "stdout": ""}],
    "none": [],
    "one": [{"item": "/y", "rc": 0, "stdout": "y"}],
}


@pytest.mark.parametrize("name", list(RESULT_SETS))
def test_read_files_keeps_what_the_loop_kept(name):
    task = yaml.safe_load((TASKS / "read_files.yml").read_text())[-1]
    expression = task["ansible.builtin.set_fact"]["backup_read_files_content"]
    variables = {"backup_read_dump": {"results": RESULT_SETS[name]}}
    new = template(expression, variables)
    assert new == template(OLD_READ_CONTENTS, variables) == mail_backup_read_contents(RESULT_SETS[name])
    assert "mail_backup_read_contents" in expression


def test_read_files_leaves_out_a_result_that_did_not_run():
    # (the loop stopped on it: a result without rc; the dump task has no when:, every result has one)
    assert mail_backup_read_contents([{"item": "/x", "skipped": True}, {"item": "/y", "rc": 0, "stdout": "y"}]) == \
        {"/y": "y\n"}


ARCHIVE_SETS = {
    "every_kind": [
        {"item": "a@gialai.gov.vn", "rc": 0, "stdout": '{"removed": true}', "changed": True},
        {"item": "b@gialai.gov.vn", "rc": 3, "stdout": '{"removed": false, "problems": ["copy differs"]}'},
        {"item": "c@gialai.gov.vn", "rc": 0, "stdout": "skipped, since /var/vmail/gialai.gov.vn/c does not exist",
         "changed": False},
        {"item": "d@gialai.gov.vn", "rc": 1, "stdout": "", "stderr": "Traceback"},
        {"item": "e@gialai.gov.vn", "msg": "Command would have run if not in check mode", "skipped": True},
        {"item": "f@gialai.gov.vn", "changed": False, "stdout": " {not at the start"},
    ],
    "none": [],
}


@pytest.mark.parametrize("name", list(ARCHIVE_SETS))
def test_archive_reports_and_stops_on_what_the_chains_selected(name):
    tasks = {t["name"]: t for t in yaml.safe_load((TASKS / "archive.yml").read_text())}
    report = tasks["Report the archived mailboxes"]["loop"]
    stop = tasks["Stop on a mailbox that could not be archived (it is kept)"]["loop"]
    for variables in ({"backup_archive_run": {"results": ARCHIVE_SETS[name]}}, {"backup_archive_run": {}}):
        assert template(report, variables) == template(OLD_ARCHIVED, variables)
        assert template(stop, variables) == template(OLD_FAILED, variables)
    split = mail_backup_archive_results(ARCHIVE_SETS[name])
    assert [r["item"] for r in split["archived"]] == (["a@gialai.gov.vn", "b@gialai.gov.vn"] if name != "none" else [])
    assert [r["item"] for r in split["failed"]] == (["b@gialai.gov.vn", "d@gialai.gov.vn"] if name != "none" else [])


NAME_SETS = [["primary"], ["primary", "copy"], [], ["with space", "quote'd", "$(rm -rf /)", "tr\u1ea7n"], [None, 5]]


def _command_lines(path: pathlib.Path, task_name: str) -> str:
    def walk(tasks):
        for task in tasks:
            yield task
            yield from walk(task.get("block", []))
    task = next(t for t in walk(yaml.safe_load(path.read_text())) if t["name"] == task_name)
    return task["ansible.builtin.command"]["cmd"]


@pytest.mark.parametrize("names", NAME_SETS, ids=range(len(NAME_SETS)))
def test_the_command_lines_are_what_the_loops_wrote(names):
    archive = _command_lines(TASKS / "archive.yml", "Archive then remove the mailboxes whose retention has ended")
    restore = _command_lines(TASKS / "restore.yml", "Restore the snapshot's part and its manifest into the staging "
                                                    "directory")
    assert "mail_cli_options('--repository')" in archive and "mail_cli_options('--include')" in restore
    repos = [{"name": n} for n in names]
    variables = {"backup_repositories": repos, "item": "a@gialai.gov.vn", "backup_vmail_dir": "/var/vmail",
                 "backup_client_name": "store1", "__backup_restore_repo": [{"name": "primary"}],
                 "__snap": {"id": "abcdef12"}, "__stage": "/var/vmail/.restore-stage",
                 "__includes": names, "__manifest": "/var/lib/mail-backup/manifest.json"}
    old_archive = archive.replace("{{ backup_repositories | map(attribute='name') | mail_cli_options('--repository') }}",
                                  OLD_REPOSITORY_OPTIONS)
    old_restore = restore.replace("{{ (__includes + [__manifest]) | mail_cli_options('--include') }}",
                                  OLD_INCLUDE_OPTIONS)
    assert old_archive != archive and old_restore != restore
    for new, old in ((archive, old_archive), (restore, old_restore)):
        assert shlex.split(template(new, variables)) == shlex.split(template(old, variables))
    assert template("cmd{{ names | mail_cli_options('--x') }}", {"names": names}) == \
        template("cmd{% for n in names %} --x {{ n | quote }}{% endfor %}", {"names": names})


def test_what_the_options_are():
    assert mail_cli_options(["a", "b c"], "--repository") == " --repository a --repository 'b c'"
    assert mail_cli_options([], "--include") == ""
    assert mail_cli_options([None], "--x") == " --x ''"
    for values, option in (("primary", "--x"), ({"a": 1}, "--x"), (5, "--x"), (["a"], "x"), (["a"], None)):
        with pytest.raises(AnsibleFilterError):
            mail_cli_options(values, option)


SERVER_SETS = {
    "lab": [{"name": "primary", "server": "bk-backup13"}, {"name": "copy", "server": "bk-backup13"}],
    "mixed": [{"name": "s3", "url": "s3:x"}, {"name": "a", "server": "bk2"}, {"name": "b", "server": ""},
              {"name": "c", "server": None}, {"name": "d", "server": "BK2"}, {"name": "e", "server": "bk1"}],
    "none": [],
    "not_mappings": ["primary", {"name": "a", "server": "bk1"}],
}


@pytest.mark.parametrize("name", list(SERVER_SETS))
def test_rebuild_finds_the_backup_hosts_the_chain_found(name):
    play = yaml.safe_load((ROOT / "playbooks" / "rebuild.yml").read_text())[0]
    missing = play["tasks"][0]["vars"]["__missing"]
    assert missing.startswith("{{ backup_repositories | default([]) | mail_backup_servers | difference(")
    variables = {"backup_repositories": SERVER_SETS[name]}
    new = template("{{ backup_repositories | default([]) | mail_backup_servers }}", variables)
    assert new == template(OLD_SERVERS, variables) == mail_backup_servers(SERVER_SETS[name])
    assert template("{{ backup_repositories | default([]) | mail_backup_servers }}", {}) == template(OLD_SERVERS, {})
    for play_hosts in ([], ["bk1"], ["bk-backup13", "store1"]):
        scope = dict(variables, ansible_play_hosts_all=play_hosts)
        assert sorted(template(missing, scope)) == sorted(template(
            OLD_SERVERS.replace(" }}", " | difference(ansible_play_hosts_all) }}"), scope))


# roles/backup_client/vars/main.yml and tasks/restore.yml's __includes before the filter
# mail_backup_restore_target (session 17).
OLD_RESTORE_VARS = {
    "__backup_restore_code": "{{ backup_restore_scope.split(':', 1)[1] | default('') }}",
    "__backup_restore_agency": "{{ backup_agencies | list | select('match', '^' ~ (__backup_restore_code"
                               " | regex_escape) ~ '$', ignorecase=true) | list }}",
    "__backup_restore_mailboxes": """\
{{ [__backup_restore_code] if backup_restore_scope.startswith('mailbox:')
   else backup_agencies[__backup_restore_agency[0]] if __backup_restore_agency | length == 1 else [] }}""",
    "__backup_restore_mailbox_dirs": """\
{{ [backup_vmail_dir] | product(__backup_restore_mailboxes | map('split', '@') | map('reverse') | map('join', '/'))
   | map('join', '/') | list }}""",
    "__includes": """\
{{ [backup_vmail_dir] if backup_restore_scope == 'all'
   else [backup_vmail_dir ~ '/' ~ __backup_restore_code] if backup_restore_scope.startswith('domain:')
   else __backup_restore_mailbox_dirs }}""",
}
SCOPES = ["all", "domain:gialai.gov.vn", "mailbox:locnv@gialai.gov.vn", "mailbox:a@b@c", "agency:VP", "agency:vp",
          "agency:VP-LT", "agency:SNV", "agency:V.P", "agency:", "everything", "agency:VP:x"]
AGENCIES = {
    "lab": {"VP": ["hoatt@gialai.gov.vn", "locnv@gialai.gov.vn", "luutru@gialai.gov.vn", "vanphong@gialai.gov.vn"],
            "VP-LT": ["luutru@gialai.gov.vn"]},
    "two_in_any_case": {"VP": ["a@gialai.gov.vn"], "vp": ["b@gialai.gov.vn"], "VXP": ["c@sotc.gialai.gov.vn"]},
    "empty_agency_and_code": {"VP": [], "": ["x@gialai.gov.vn"], "V.P": ["d@gialai.gov.vn"]},
    "none": {},
}


def _restore_block_vars() -> dict:
    tasks = yaml.safe_load((TASKS / "restore.yml").read_text())
    return next(t for t in tasks if t["name"] == "Restore, merge and verify")["vars"]


@pytest.mark.parametrize("agencies", list(AGENCIES))
@pytest.mark.parametrize("scope", SCOPES)
def test_restore_targets_what_the_expressions_targeted(scope, agencies):
    variables = role_variables([], {"daily": 7})
    variables.update(backup_restore_scope=scope, backup_agencies=AGENCIES[agencies],
                     __includes=_trusted(_restore_block_vars()["__includes"]))
    names = list(OLD_RESTORE_VARS)
    new = [template("{{ " + n + " }}", variables) for n in names]
    old = [template("{{ " + n + " }}", dict(variables, **_trusted(OLD_RESTORE_VARS))) for n in names]
    assert new == old
    assert "mail_backup_restore_target" in variables["__backup_restore_target"]
