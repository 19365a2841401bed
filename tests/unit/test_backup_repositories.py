"""The backup repositories of the backup_client role (plugins/plugin_utils/backup.py, the filter
mail_backup_repositories) and what the role renders from them.

The role's vars (roles/backup_client/vars/main.yml) and templates are rendered through Ansible
(its Templar, as the template module calls it), with the role's defaults and vars templated lazily
as in a play. The for-loops the filter replaced are kept below (OLD_*) and rendered beside it: the
vars and every file written from the repositories must be the same for each input set.
"""

from __future__ import annotations

import base64
import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import backup_keep_args, mail_backup_repositories

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "backup_client"
PASSWORD = "Kho-luu-tru-2026!"

# roles/backup_client/vars/main.yml before the filter (session 16).
OLD_REPOS = """\
{%- set out = [] -%}
{%- for r in backup_repositories -%}
{%- set managed = r.server is defined and r.server -%}
{%- set account = r.account | default(backup_client_name ~ '-' ~ r.name) if managed else '' -%}
{%- set _ = out.append(r | combine({
      'managed': managed,
      'account': account,
      'address': r.address | default(r.server) if managed else '',
      'port': r.port | default(22),
      'root': r.root | default(backup_server_root),
      'alias': 'mail-backup-' ~ r.name,
      'restic_url': ('rclone:mail-backup-' ~ r.name ~ ':repo') if managed else r.url | default(''),
      'env': r.env | default({})})) -%}
{%- endfor -%}
{{ out }}"""
OLD_KEEP_ARGS = """\
{%- set out = [] -%}
{%- for k, v in backup_retention | dictsort if v | int > 0 -%}
{%- set _ = out.append('--keep-' ~ k ~ ' ' ~ v | int) -%}
{%- endfor -%}
{{ out | join(' ') }}"""
OLD_MAILBOX_DIRS = """\
{%- set out = [] -%}
{%- for address in __backup_restore_mailboxes -%}
{%- set _ = out.append(backup_vmail_dir ~ '/' ~ address.split('@')[1] ~ '/' ~ address.split('@')[0]) -%}
{%- endfor -%}
{{ out }}"""

# Representative inputs: the lab's two managed repositories (molecule/backup), production's
# example (one managed, one S3 with credentials in env), every optional key given, a repository
# given by url only, a managed one whose server is empty (the lab without a backup host).
REPOSITORY_SETS = {
    "lab": [{"name": "primary", "server": "bk-backup13", "password": PASSWORD},
            {"name": "copy", "server": "bk-backup13", "root": "/srv/backup-copy", "password": PASSWORD}],
    "production": [{"name": "primary", "server": "backup.gialai.gov.vn", "password": PASSWORD},
                   {"name": "offsite", "url": "s3:https://s3.dc2.gialai.gov.vn/mail-backup", "password": PASSWORD,
                    "env": {"AWS_ACCESS_KEY_ID": "AKIA-write-only", "AWS_SECRET_ACCESS_KEY": "s3cr3t 'quoted'"}}],
    "every_key": [{"name": "dc2", "server": "bk2", "address": "10.30.0.21", "port": 2222, "root": "/data/backup",
                   "account": "kho-dc2", "password": PASSWORD, "env": {"RESTIC_COMPRESSION": "max"}},
                  {"name": "usb", "url": "/mnt/usb/restic", "password": PASSWORD, "port": "2200"}],
    "url_only": [{"name": "rest", "url": "rest:https://user:pw@backup.example:8000/store1/", "password": PASSWORD}],
    "no_backup_host": [{"name": "primary", "server": "", "password": PASSWORD}],
}
RETENTIONS = [
    {"last": 3, "daily": 7, "weekly": 4, "monthly": 12},  # the role's default
    {"yearly": "2", "daily": 0, "hourly": 24},
    {"last": 1},
]
MAILBOX_SETS = [[], ["locnv@gialai.gov.vn"],
                ["hoatt@gialai.gov.vn", "luutru@sonoivu.gialai.gov.vn", "vanphong@gialai.gov.vn"]]
HOST_KEYS = {"bk-backup13": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbk13 root@bk-backup13",
             "backup.gialai.gov.vn": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIprod root@backup",
             "bk2": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbk2 root@bk2"}


def _trusted(value):
    from ansible.template import trust_as_template

    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    return value


def role_variables(repositories, retention, mailboxes=()) -> dict:
    """The role's defaults and vars as a play holds them (templated when read), with the host's input."""
    variables = {}
    for part in ("defaults", "vars"):
        variables.update(_trusted(yaml.safe_load((ROLE / part / "main.yml").read_text())))
    servers = sorted({r["server"] for r in repositories if r.get("server")})
    variables.update(
        inventory_hostname_short="store1", ansible_managed="Ansible managed", backup_repositories=repositories,
        backup_retention=retention, backup_restore_scope="agency:VP", backup_agencies={"VP": list(mailboxes)},
        backup_host_keys={"results": [{"item": s, "content": base64.b64encode(HOST_KEYS[s].encode()).decode()}
                                      for s in servers]},
    )
    return variables


def template(text: str, variables: dict):
    """``text`` rendered by Ansible as the template module does (trim_blocks) or as a var is."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template

    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(text), escape_backslashes=False, overrides={"trim_blocks": True})


def rendered_files(variables: dict) -> dict[str, str]:
    """Every file the role writes from the repositories, by its path on the host."""
    repos = template("{{ __backup_repos }}", variables)
    files = {"ssh_config": "etc/mail-backup/ssh_config.j2", "known_hosts": "etc/mail-backup/known_hosts.j2"}
    out = {name: template((ROLE / "templates" / src).read_text(), variables) for name, src in files.items()}
    # tasks/config.yml's list of repositories
    out["repositories"] = template("{{ __backup_repos | map(attribute='name') | join('\\n') }}\n", variables)
    for repo in repos:
        with_item = dict(variables, item=repo)
        out[f"repos/{repo['name']}.env"] = template(
            (ROLE / "templates" / "etc/mail-backup/repo.env.j2").read_text(), with_item)
        if repo["managed"]:
            out[f"prune/{repo['account']}.env"] = template(
                (ROLE / "templates" / "etc/mail-backup-prune/prune.env.j2").read_text(), with_item)
    return out


@pytest.mark.parametrize("retention", RETENTIONS, ids=["default", "hourly_yearly", "last_only"])
@pytest.mark.parametrize("name", list(REPOSITORY_SETS))
def test_the_filter_gives_what_the_for_loops_gave(name, retention):
    variables = role_variables(REPOSITORY_SETS[name], retention)
    new = template("{{ __backup_repos }}", variables)
    old = template(OLD_REPOS, variables)
    keep = template(OLD_KEEP_ARGS, variables)
    assert keep and [r["keep_args"] for r in new] == [keep] * len(old)
    # The loop's `managed` was the server's name, False or '' (Jinja's `and`); the filter's is a
    # boolean. Every reader only tests it (if, selectattr).
    assert [r["managed"] for r in new] == [bool(r["managed"]) for r in old]
    strip = ("managed", "keep_args")
    assert [{k: v for k, v in r.items() if k not in strip} for r in new] == \
           [{k: v for k, v in r.items() if k not in strip} for r in old]
    assert [list(r) for r in new] == [list(r) + ["keep_args"] for r in old]  # same keys, same order

    # The files written from them: byte for byte the same as from the loops' values.
    old_vars = dict(variables, __backup_repos=[dict(r, keep_args=keep) for r in old])
    assert rendered_files(variables) == rendered_files(old_vars)


@pytest.mark.parametrize("mailboxes", MAILBOX_SETS, ids=len)
def test_restore_mailbox_dirs_are_what_the_loop_gave(mailboxes):
    variables = role_variables(REPOSITORY_SETS["lab"], RETENTIONS[0], mailboxes)
    assert template("{{ __backup_restore_mailboxes }}", variables) == mailboxes
    new = template("{{ __backup_restore_mailbox_dirs }}", variables)
    assert new == template(OLD_MAILBOX_DIRS, variables)
    assert new == [f"/var/vmail/{a.split('@')[1]}/{a.split('@')[0]}" for a in mailboxes]


def test_what_the_files_say():
    """The rendered files themselves, for production's example (one managed, one S3 repository)."""
    files = rendered_files(role_variables(REPOSITORY_SETS["production"], RETENTIONS[0]))
    assert set(files) == {"ssh_config", "known_hosts", "repositories", "repos/primary.env", "repos/offsite.env",
                          "prune/store1-primary.env"}
    assert "Host mail-backup-primary\n    HostName backup.gialai.gov.vn\n    Port 22\n    User store1-primary\n" \
        in files["ssh_config"]
    assert "offsite" not in files["ssh_config"] and "offsite" not in files["known_hosts"]
    assert "mail-backup-primary ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIprod\n" in files["known_hosts"]
    assert files["repositories"] == "primary\noffsite\n"
    assert "RESTIC_REPOSITORY=rclone:mail-backup-primary:repo\n" in files["repos/primary.env"]
    assert "MAIL_BACKUP_RCLONE_PROGRAM='ssh -F /etc/mail-backup/ssh_config mail-backup-primary'\n" \
        in files["repos/primary.env"]
    assert "RESTIC_REPOSITORY=s3:https://s3.dc2.gialai.gov.vn/mail-backup\n" in files["repos/offsite.env"]
    assert "AWS_SECRET_ACCESS_KEY='s3cr3t '\"'\"'quoted'\"'\"''\n" in files["repos/offsite.env"]
    assert "MAIL_BACKUP_RCLONE_PROGRAM" not in files["repos/offsite.env"]
    prune = files["prune/store1-primary.env"]
    assert "MAIL_BACKUP_ACCOUNT=store1-primary\nRESTIC_REPOSITORY=/srv/backup/store1-primary/repo\n" in prune
    assert prune.endswith("MAIL_BACKUP_KEEP='--keep-daily 7 --keep-last 3 --keep-monthly 12 --keep-weekly 4'\n")


def test_defaults_are_filled_and_given_keys_kept():
    repos = mail_backup_repositories(REPOSITORY_SETS["every_key"] + REPOSITORY_SETS["no_backup_host"], "store1",
                                     "/srv/backup", {"daily": 7})
    assert repos[0] == dict(REPOSITORY_SETS["every_key"][0], managed=True, alias="mail-backup-dc2",
                            restic_url="rclone:mail-backup-dc2:repo", keep_args="--keep-daily 7")
    assert repos[1] == dict(REPOSITORY_SETS["every_key"][1], managed=False, account="", address="", port="2200",
                            root="/srv/backup", alias="mail-backup-usb", restic_url="/mnt/usb/restic", env={},
                            keep_args="--keep-daily 7")
    assert repos[2]["managed"] is False and repos[2]["restic_url"] == "" and repos[2]["account"] == ""
    given = [{"name": "a", "server": "bk1", "managed": "yes", "alias": "x", "password": PASSWORD}]
    assert mail_backup_repositories(given, "s", "/r", {"last": 1})[0]["alias"] == "mail-backup-a"
    assert given[0]["alias"] == "x", "the input is not changed"
    assert mail_backup_repositories([], "store1", "/srv/backup", {"last": 1}) == []


@pytest.mark.parametrize("retention, args", [
    ({"last": 3, "daily": 7, "weekly": 4, "monthly": 12}, "--keep-daily 7 --keep-last 3 --keep-monthly 12 --keep-weekly 4"),
    ({"yearly": "2", "daily": 0}, "--keep-yearly 2"),
    ({"hourly": 48}, "--keep-hourly 48"),
])  # fmt: skip
def test_retention_as_restic_forget_arguments(retention, args):
    assert backup_keep_args(retention) == args


@pytest.mark.parametrize("repositories, client, root, retention, message", [
    ({"name": "primary"}, "store1", "/srv/backup", {"last": 1},
     "backup_repositories must be a list of repositories, got dict"),
    (["primary"], "store1", "/srv/backup", {"last": 1},
     "backup_repositories[0] is not a mapping ({name, password, server or url}), got str"),
    ([{"name": "a", "url": "/x"}, {"server": "bk1"}], "store1", "/srv/backup", {"last": 1},
     "backup_repositories[1] has no name"),
    ([{"name": "", "server": "bk1"}], "store1", "/srv/backup", {"last": 1}, "backup_repositories[0] has no name"),
    ([{"name": "s3", "url": "s3:x", "env": ["AWS_ACCESS_KEY_ID=x"]}], "store1", "/srv/backup", {"last": 1},
     "backup repository s3: env must be a mapping, got list"),
    ([], "", "/srv/backup", {"last": 1}, "backup_client_name must be a non-empty string, got ''"),
    ([], "store1", None, {"last": 1}, "backup_server_root must be a non-empty string, got None"),
    ([], "store1", "/srv/backup", [7], "backup_retention must map periods (last, hourly, daily, weekly, monthly, "
                                       "yearly) to counts, got list"),
    ([], "store1", "/srv/backup", {"days": 7},
     "backup_retention: unknown period 'days' (one of last, hourly, daily, weekly, monthly, yearly)"),
    ([], "store1", "/srv/backup", {"daily": "7d"}, "backup_retention: daily = '7d' is not a whole number >= 0"),
    ([], "store1", "/srv/backup", {"daily": -1}, "backup_retention: daily = -1 is not a whole number >= 0"),
    ([], "store1", "/srv/backup", {"daily": True}, "backup_retention: daily = True is not a whole number >= 0"),
    ([], "store1", "/srv/backup", {"daily": 1.5}, "backup_retention: daily = 1.5 is not a whole number >= 0"),
    ([], "store1", "/srv/backup", {"daily": 0, "last": "0"},
     "backup_retention keeps nothing (every count is 0): restic forget would have no policy"),
])  # fmt: skip
def test_bad_input_is_named(repositories, client, root, retention, message):
    with pytest.raises(AnsibleFilterError) as error:
        mail_backup_repositories(repositories, client, root, retention)
    assert error.value.message == message


def test_a_bad_repository_error_shows_no_password():
    with pytest.raises(AnsibleFilterError) as error:
        mail_backup_repositories([{"name": "s3", "password": PASSWORD, "env": "AWS=1"}], "s", "/r", {"last": 1})
    assert PASSWORD not in str(error.value) and "AWS=1" not in str(error.value)
