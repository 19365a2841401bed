"""What the backup_client role's task files make of restic's and mail-backup-tool's results, and
the repeated options of their command lines.

- ``mail_backup_read_contents`` (``plugins/filter/mail_backup_read_contents.py``): read_files.yml's
  ``{path: text}`` of the files ``restic dump`` found;
- ``mail_backup_archive_results`` (``plugins/filter/mail_backup_archive_results.py``): archive.yml's
  archived and failed mailboxes;
- ``mail_cli_options`` (``plugins/filter/mail_cli_options.py``): ``--repository a --repository b``,
  each value quoted for the shell as Ansible's ``quote`` quotes it;
- ``mail_backup_servers`` (``plugins/filter/mail_backup_servers.py``): the backup hosts that
  repositories name (rebuild.yml's check that they are in the run).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.listing import unique

# mail-backup-tool's answer is one JSON object; anything else is Ansible's or the shell's text.
_JSON_OBJECT = re.compile(r"^[{]")


def _results(results, what: str) -> list:
    if not isinstance(results, (list, tuple)):
        raise AnsibleFilterError(f"{what} must be a loop's results (a list), got {type(results).__name__}")
    return [r for r in results if isinstance(r, Mapping)]


def mail_backup_read_contents(results) -> dict[str, str]:
    """``{item: stdout + newline}`` of every result of a loop of ``restic dump`` (one item a path)
    whose ``rc`` is 0, in the loop's order; the rest (a path the snapshot does not hold) is left out.
    """
    return {r["item"]: f"{r.get('stdout', '')}\n" for r in _results(results, "backup_read_dump.results")
            if r.get("rc") == 0}


def mail_backup_archive_results(results) -> dict[str, list]:
    """The results of archive.yml's loop of ``mail-backup-tool archive`` split in two:

    - ``archived``: those whose ``stdout`` is the tool's JSON (starts with ``{``), whatever it says;
    - ``failed``: those that ran (have an ``rc``) and did not return 0.

    A mailbox already archived (the command skipped: no rc, Ansible's text) is in neither.
    """
    runs = _results(results, "backup_archive_run.results")
    stdout = [r for r in runs if "stdout" in r]
    return {
        "archived": [r for r in stdout if _JSON_OBJECT.match(r["stdout"] if isinstance(r["stdout"], str)
                                                             else str(r["stdout"]))],
        "failed": [r for r in runs if "rc" in r and r["rc"] != 0],
    }


def mail_cli_options(values, option: str) -> str:
    """``' <option> <value>'`` for each of ``values``, joined: each value quoted for the shell as
    Ansible's ``quote`` filter quotes it (None as ''), e.g. ``['a', 'b c'] -> " --x a --x 'b c'"``;
    '' for no values.
    """
    if isinstance(values, (str, Mapping)) or not hasattr(values, "__iter__"):
        raise AnsibleFilterError(f"mail_cli_options takes a list of values, got {type(values).__name__}")
    if not isinstance(option, str) or not option.startswith("-"):
        raise AnsibleFilterError(f"mail_cli_options: the option must be a string starting with -, got {option!r}")
    return "".join(f" {option} {shlex.quote('' if value is None else str(value))}" for value in values)


def mail_backup_servers(repositories) -> list:
    """The ``server`` of each repository that names one (not empty), each once in the order of
    ``repositories``, letter case ignored as Ansible's ``unique`` ignores it (the first spelling kept).
    """
    if not isinstance(repositories, (list, tuple)):
        raise AnsibleFilterError(f"backup_repositories must be a list, got {type(repositories).__name__}")
    return unique(repo["server"] for repo in repositories if isinstance(repo, Mapping) and repo.get("server"))
