"""The mail_backup_servers filter: the backup hosts that backup repositories name. The logic is plugins/plugin_utils/backup_runs.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup_runs import mail_backup_servers

DOCUMENTATION = r"""
name: mail_backup_servers
short_description: the backup hosts that backup repositories name
description:
  - The C(server) of each repository of O(_input) (C(backup_repositories)) that names one (not
    empty), each once in the repositories' order; letter case is ignored as Ansible's C(unique)
    ignores it (the first spelling kept).
positional: _input
options:
  _input:
    description: The repositories.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop when a backup host of this store's repositories is left out of the run
  ansible.builtin.assert:
    that: __missing | length == 0
  vars:
    __missing: "{{ backup_repositories | default([]) | mail_backup_servers | difference(ansible_play_hosts_all) }}"
# [{name: primary, server: bk1}, {name: copy, server: bk1}, {name: s3, url: "s3:..."}] -> [bk1]
"""

RETURN = r"""
_value:
  description: The backup hosts, each once.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_servers": mail_backup_servers}
