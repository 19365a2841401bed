"""The mail_backup_repository_problems filter: what is wrong with one backup repository, as the backup_client role's check names it. The logic is plugins/plugin_utils/backup.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import mail_backup_repository_problems

DOCUMENTATION = r"""
name: mail_backup_repository_problems
short_description: what is wrong with one backup repository, as the backup_client role's check names it
description:
  - Checks O(_input), one entry of O(repositories) (the backup_client role's C(backup_repositories)),
    and names each problem an operator must fix, in this order.
  - A name that is not 1 to 16 of a-z, 0-9 and - (not starting with -); a name another repository has.
  - A restic password missing or shorter than 12 characters.
  - Not exactly one of C(server) (a backup host of O(server_group)) and C(url) (a restic repository);
    a C(server) not among O(server_hosts); a C(url) restic does not take (shown with its credentials masked).
  - An account name C(<client_name>-<name>) longer than 32 characters without C(account) given.
  - An C(env) that does not map variable names to strings (its values are never shown).
  - A field that is missing counts as empty; the password never appears in an entry.
positional: _input, repositories, client_name, server_hosts, server_group
options:
  _input:
    description: The repository, C({name, password, server or url, account, env, ...}).
    type: raw
    required: true
  repositories:
    description: Every repository (C(backup_repositories)), to find a name used twice.
    type: list
    elements: raw
    required: true
  client_name:
    description: The client's name (C(backup_client_name)), the prefix of the account names.
    type: str
    required: true
  server_hosts:
    description: The hosts of the backup host group (C(groups[backup_server_group])).
    type: list
    elements: str
    required: true
  server_group:
    description: That group's name, for the message.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check each repository (name, password, where it is)
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "backup repository {{ item.name }}: {{ __problems | join('; ') }}"
  vars:
    __problems: >-
      {{ item | mail_backup_repository_problems(backup_repositories, backup_client_name,
         groups[backup_server_group] | default([]), backup_server_group) }}
# {name: Primary, server: bk9, password: short} with groups[mail_backup] [bk1]
#   -> ["name must be a-z, 0-9 and - (1 to 16 characters)",
#       "the restic password is missing or shorter than 12 characters (set it in vault; losing it loses the backups)",
#       "backup host bk9 is not in the mail_backup group of the inventory"]
"""

RETURN = r"""
_value:
  description: One sentence per problem, in the order above; empty when the repository is right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_repository_problems": mail_backup_repository_problems}
