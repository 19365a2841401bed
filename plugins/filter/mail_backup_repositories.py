"""The mail_backup_repositories filter: the backup_client role's repositories with every default filled in.
The logic is plugins/plugin_utils/backup.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import mail_backup_repositories

DOCUMENTATION = r"""
name: mail_backup_repositories
short_description: the backup repositories with every default filled in (the backup_client role's __backup_repos)
description:
  - Returns a new mapping for each repository of O(_input), in its order, with the repository's own
    keys and the fields the backup_client role's tasks and templates read.
  - C(managed) is true when the repository names a C(server) (a mail_backup host on which the role
    makes an append-only account), false for one given by C(url).
  - For a managed repository, C(account) defaults to C(<client_name>-<name>) and C(address) to the
    server; both are empty strings for the others.
  - C(port) defaults to 22, C(root) to O(server_root), C(env) to an empty mapping; a key the
    repository gives is kept as given.
  - C(alias) is C(mail-backup-<name>) (the ssh alias, the name of its files); C(restic_url) is
    C(rclone:<alias>:repo) for a managed repository (restic reaches it through ssh), else its C(url).
  - C(keep_args) is O(retention) as C(restic forget) arguments, periods in sorted order and zero
    counts left out (C(--keep-daily 7 --keep-last 3)); the backup host applies it to a managed
    repository (mail-backup-prune).
positional: _input, client_name, server_root, retention
options:
  _input:
    description: The repositories (backup_repositories), each with at least C(name).
    type: list
    elements: dict
    required: true
  client_name:
    description: Who this host is to restic and the prefix of its backup accounts (backup_client_name).
    type: str
    required: true
  server_root:
    description: The default root of a managed repository's account home on its backup host (backup_server_root).
    type: str
    required: true
  retention:
    description: >-
      Period (last, hourly, daily, weekly, monthly, yearly) to the number of snapshots kept, a whole
      number >= 0, at least one above 0 (backup_retention).
    type: dict
    required: true
notes:
  - "Errors, each naming what is wrong: the repositories not a list, a repository that is not a mapping
    or has no name (by its index), an env that is not a mapping (by the repository's name), an empty
    client_name or server_root, a retention that is not a mapping, has an unknown period or a count
    that is not a whole number >= 0 (by the period), or keeps nothing."
  - The backup_client role's input checks (tasks/validate.yml) refuse bad repositories earlier, in the
    preflight, with the operator's message.
"""

EXAMPLES = r"""
__backup_repos: >-
  {{ backup_repositories | mail_backup_repositories(backup_client_name, backup_server_root, backup_retention) }}
# backup_repositories [{name: primary, server: bk1, password: ...}, {name: usb, url: /mnt/usb, password: ...}],
# client_name store1, server_root /srv/backup, retention {daily: 7, last: 3, weekly: 0}
# -> [{name: primary, server: bk1, password: ..., managed: true, account: store1-primary, address: bk1,
#      port: 22, root: /srv/backup, alias: mail-backup-primary, restic_url: "rclone:mail-backup-primary:repo",
#      env: {}, keep_args: "--keep-daily 7 --keep-last 3"},
#     {name: usb, url: /mnt/usb, password: ..., managed: false, account: "", address: "", port: 22,
#      root: /srv/backup, alias: mail-backup-usb, restic_url: /mnt/usb, env: {}, keep_args: "--keep-daily 7 --keep-last 3"}]
"""

RETURN = r"""
_value:
  description: >-
    The repositories in their order, each with its own keys plus managed, account, address, port,
    root, alias, restic_url, env and keep_args.
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_repositories": mail_backup_repositories}
