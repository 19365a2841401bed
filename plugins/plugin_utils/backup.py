"""The backup_client role's repositories with every default filled in, and its agencies checked.

``mail_backup_repositories`` (documented in ``plugins/filter/mail_backup_repositories.py``) gives
the role's ``__backup_repos``: each entry of ``backup_repositories`` with the fields the tasks and
templates read (whether the role manages it on a backup host, the account there, the ssh alias,
restic's repository URL, the retention as ``restic forget`` arguments). The input checks of the
role (``roles/backup_client/tasks/validate.yml``) run before it and name a bad repository for the
operator; the errors here are for input that got past them (another caller, a changed check).

``mail_backup_agency_problems`` (``plugins/filter/mail_backup_agency_problems.py``) is one of those
checks: the entries of ``backup_agencies`` that are not a code with a list of mailbox addresses;
``mail_backup_repository_problems`` (``plugins/filter/mail_backup_repository_problems.py``) is
another: what is wrong with one repository, as the operator reads it.

``mail_backup_restore_target`` (``plugins/filter/mail_backup_restore_target.py``) reads restore's
scope: the agency it names, the mailboxes and the store's directories restic brings back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# A mailbox address as backup_agencies lists it (and as restore.yml's scope mailbox:<address> takes it).
MAILBOX_RE = re.compile(r"^[^@\s/]+@[a-z0-9.-]+$")
# How much of a bad entry's value the message shows (Jinja's truncate(80): 5 more allowed, cut at a word).
SHOWN, LEEWAY, ELLIPSIS = 80, 5, "..."

# A repository's name: the prefix of its files, ssh alias and account. Not a DNS label (it may end
# with '-'; names.valid_dns_label is that rule): 1 to 16 of a-z, 0-9 and -, not starting with -.
REPOSITORY_NAME_RE = re.compile(r"^[a-z0-9][-a-z0-9]{0,15}$")
# What restic takes as a repository (the role's url: sftp, rest, s3, b2, azure, gs, swift, rclone, a path).
RESTIC_URL_RE = re.compile(
    r"^(sftp:[^:/]+:/.+|sftp://[^/]+/.+|rest:https?://.+|s3:.+|b2:.+|azure:.+|gs:.+|swift:.+|rclone:.+|/.+)$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An account name on the backup host (useradd's limit).
ACCOUNT_MAX = 32

# restic forget's --keep-<period> options that backup_retention may set.
RETENTION_KEYS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
_WHOLE = re.compile(r"^-?[0-9]+$")


def _whole_number(value) -> int | None:
    """``value`` as an int when it is a whole number written as one (7 or '7'), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str) and _WHOLE.match(value) and str(int(value)) == value:
        return int(value)
    return None


def backup_keep_args(retention) -> str:
    """``backup_retention`` as restic forget arguments, keys in sorted order, zeros left out:
    {'daily': 7, 'last': 3, 'weekly': 0} -> '--keep-daily 7 --keep-last 3'."""
    if not isinstance(retention, Mapping):
        raise AnsibleFilterError(
            f"backup_retention must map periods ({', '.join(RETENTION_KEYS)}) to counts, "
            f"got {type(retention).__name__}")
    args = []
    for key in sorted(retention, key=lambda k: str(k).lower()):
        if key not in RETENTION_KEYS:
            raise AnsibleFilterError(
                f"backup_retention: unknown period '{key}' (one of {', '.join(RETENTION_KEYS)})")
        count = _whole_number(retention[key])
        if count is None or count < 0:
            raise AnsibleFilterError(
                f"backup_retention: {key} = {retention[key]!r} is not a whole number >= 0")
        if count > 0:
            args.append(f"--keep-{key} {count}")
    if not args:
        raise AnsibleFilterError(
            "backup_retention keeps nothing (every count is 0): restic forget would have no policy")
    return " ".join(args)


def _text(value, what: str) -> str:
    if not isinstance(value, str) or value == "":
        raise AnsibleFilterError(f"{what} must be a non-empty string, got {value!r}")
    return value


def mail_backup_repositories(repositories, client_name, server_root, retention) -> list[dict]:
    """Each repository of ``repositories`` (backup_repositories) as a new dict: its own keys, then

    - ``managed``: True when it names a ``server`` (a backup host the role sets up), else False;
    - ``account``: for a managed one its ``account``, else ``<client_name>-<name>``; '' otherwise;
    - ``address``: for a managed one its ``address``, else its server; '' otherwise;
    - ``port`` (default 22), ``root`` (default ``server_root``), ``env`` (default {});
    - ``alias``: ``mail-backup-<name>``, the ssh alias and the prefix of its files;
    - ``restic_url``: ``rclone:<alias>:repo`` for a managed one, else its ``url`` ('' if none);
    - ``keep_args``: ``retention`` as restic forget arguments (applied on the backup host).

    A key given in a repository is kept as given (a given ``port`` of '2222' stays a string), as
    Ansible's ``default`` filter keeps it.
    """
    client_name = _text(client_name, "backup_client_name")
    server_root = _text(server_root, "backup_server_root")
    keep_args = backup_keep_args(retention)
    if not isinstance(repositories, (list, tuple)):
        raise AnsibleFilterError(
            f"backup_repositories must be a list of repositories, got {type(repositories).__name__}")
    out = []
    for index, repo in enumerate(repositories):
        if not isinstance(repo, Mapping):
            raise AnsibleFilterError(
                f"backup_repositories[{index}] is not a mapping ({{name, password, server or url}}), "
                f"got {type(repo).__name__}")
        name = repo.get("name")
        if not isinstance(name, str) or name == "":
            raise AnsibleFilterError(f"backup_repositories[{index}] has no name")
        env = repo.get("env", {})
        if not isinstance(env, Mapping):
            raise AnsibleFilterError(
                f"backup repository {name}: env must be a mapping, got {type(env).__name__}")
        managed = bool(repo.get("server"))
        alias = f"mail-backup-{name}"
        entry = dict(repo)
        entry.update(
            managed=managed,
            account=repo.get("account", f"{client_name}-{name}") if managed else "",
            address=repo.get("address", repo.get("server")) if managed else "",
            port=repo.get("port", 22),
            root=repo.get("root", server_root),
            alias=alias,
            restic_url=f"rclone:{alias}:repo" if managed else repo.get("url", ""),
            env=env,
            keep_args=keep_args,
        )
        out.append(entry)
    return out


def _shown(text: str) -> str:
    """``text`` cut as Jinja's ``truncate(80)`` cuts it: kept whole up to 85 characters, else the
    first 77 up to the last space, then '...'."""
    if len(text) <= SHOWN + LEEWAY:
        return text
    return text[:SHOWN - len(ELLIPSIS)].rsplit(" ", 1)[0] + ELLIPSIS


def mail_backup_agency_problems(agencies) -> list[str]:
    """The entries of ``agencies`` (backup_agencies: agency code -> its mailbox addresses) that are
    wrong, each as '<code> <its value, cut to about 80 characters>', in the mapping's order.

    An entry is wrong when its value is not a list (a string, a mapping, a number, null) or holds
    anything but mailbox addresses (``local@domain``, lower-case domain, no space or slash).
    Anything but a mapping gives no entries: the caller says what it is instead.
    """
    if not isinstance(agencies, Mapping):
        return []
    bad = []
    for code, boxes in agencies.items():
        if (not isinstance(boxes, (list, tuple))
                or any(not isinstance(box, str) for box in boxes)
                or any(not MAILBOX_RE.match(box) for box in boxes)):
            bad.append(f"{code} {_shown(str(boxes))}")
    return bad


def _text_of(value) -> str:
    """``value`` as Ansible's match test and ``~`` read it (str() of anything but a string)."""
    return value if isinstance(value, str) else str(value)


def _field(repo, key, default):
    return repo[key] if isinstance(repo, Mapping) and key in repo else default


def mail_backup_repository_problems(repo, repositories, client_name, server_hosts, server_group) -> list[str]:
    """What is wrong with ``repo``, one entry of ``repositories`` (backup_repositories), as the
    role's input check names it; empty when it is right. In order:

    - a name that is not 1 to 16 of a-z, 0-9 and - (not starting with -);
    - a name another repository also has;
    - a restic password missing or shorter than 12 characters;
    - not exactly one of ``server`` and ``url``;
    - a ``server`` that is not in ``server_hosts`` (the hosts of ``server_group``);
    - a ``url`` that is not a restic repository (shown with its credentials masked);
    - an account name ``<client_name>-<name>`` over 32 characters without ``account`` given;
    - an ``env`` that is not a mapping of variable names to strings (values never shown).

    A field missing counts as empty, as the check's ``default('')`` made it; the password and the
    env's values are never part of an entry.
    """
    name = _field(repo, "name", "")
    server = _field(repo, "server", "")
    url = _field(repo, "url", "")
    env = _field(repo, "env", {})
    names = [_field(r, "name", None) for r in repositories if isinstance(r, Mapping) and "name" in r]
    problems = []
    if not REPOSITORY_NAME_RE.match(_text_of(name)):
        problems.append("name must be a-z, 0-9 and - (1 to 16 characters)")
    if len([n for n in names if n == name]) > 1:
        problems.append("the name is used by another repository")
    if len(_text_of(_field(repo, "password", ""))) < 12:
        problems.append("the restic password is missing or shorter than 12 characters "
                        "(set it in vault; losing it loses the backups)")
    if (server != "") == (url != ""):
        problems.append("needs exactly one of server (a host of the mail_backup group) or url (a restic repository)")
    if server != "" and server not in (server_hosts or []):
        problems.append(f"backup host {_text_of(server)} is not in the {_text_of(server_group)} group of the inventory")
    if url != "" and not RESTIC_URL_RE.match(_text_of(url)):
        masked = re.sub(r"//[^/@]*@", "//***@", _text_of(url))
        problems.append(f"url {masked} is not a restic repository (sftp:host:/path, rest:https://..., s3:..., "
                        "/absolute/path)")
    if len(f"{_text_of(client_name)}-{_text_of(name)}") > ACCOUNT_MAX and not (
            isinstance(repo, Mapping) and "account" in repo):
        problems.append(f"the account name {_text_of(client_name)}-{_text_of(name)} is longer than "
                        f"{ACCOUNT_MAX} characters: set account")
    if not (isinstance(env, Mapping)
            and all(ENV_NAME_RE.match(_text_of(key)) for key in env)
            and all(isinstance(value, str) for value in env.values())):
        problems.append("env must map variable names (A-Z, 0-9, _) to strings (values not shown)")
    return problems


def mail_backup_restore_target(scope, agencies, vmail_dir) -> dict:
    """What ``scope`` (backup_restore_scope: ``all``, ``domain:<d>``, ``mailbox:<address>`` or
    ``agency:<code>``) restores, with ``agencies`` (backup_agencies) and the store ``vmail_dir``:

    - ``code``: what follows the kind ('' for ``all``);
    - ``agency``: for any scope, the codes of ``agencies`` that are ``code`` in any letter case (a
      list of one, or empty when unknown);
    - ``mailboxes``: ``[code]`` for ``mailbox:``, else the mailboxes of that one agency, else [];
    - ``mailbox_dirs``: each mailbox's directory, ``<vmail_dir>/<domain>/<local part>``;
    - ``includes``: what restic brings back: ``[vmail_dir]`` for ``all``, ``[<vmail_dir>/<domain>]``
      for ``domain:``, else ``mailbox_dirs``.

    The scope's syntax and the agency's mailboxes are checked by restore.yml (and the role's input
    check); a mailbox that is not text stops with an error naming it.
    """
    if not isinstance(scope, str):
        raise AnsibleFilterError(f"backup_restore_scope must be a string, got {type(scope).__name__}")
    parts = scope.split(":", 1)
    code = parts[1] if len(parts) > 1 else ""
    wanted = re.compile("^" + re.escape(code) + "$", re.IGNORECASE)
    agency = [name for name in agencies if wanted.match(_text_of(name))]
    if scope.startswith("mailbox:"):
        mailboxes = [code]
    elif len(agency) == 1:
        mailboxes = agencies[agency[0]]
    else:
        mailboxes = []
    dirs = []
    for address in mailboxes:
        if not isinstance(address, str):
            raise AnsibleFilterError(f"backup_agencies: {agency[0]} lists {address!r}, not a mailbox address")
        dirs.append("/".join([vmail_dir, "/".join(reversed(address.split("@")))]))
    if scope == "all":
        includes = [vmail_dir]
    elif scope.startswith("domain:"):
        includes = [f"{vmail_dir}/{code}"]
    else:
        includes = dirs
    return {"code": code, "agency": agency, "mailboxes": mailboxes, "mailbox_dirs": dirs, "includes": includes}
