"""The mail_cli_options filter: an option repeated for each value, quoted for the shell. The logic is plugins/plugin_utils/backup_runs.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup_runs import mail_cli_options

DOCUMENTATION = r"""
name: mail_cli_options
short_description: an option repeated for each value, quoted for the shell
description:
  - Writes C( <option> <value>) for each of O(_input), joined, each value quoted for the shell as
    Ansible's C(quote) filter quotes it (None as an empty string); an empty string for no values.
  - For a command line that names a list (C(--repository) of every repository, C(--include) of every
    restored directory).
positional: _input, option
options:
  _input:
    description: The values.
    type: list
    elements: raw
    required: true
  option:
    description: The option, starting with C(-).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Archive a mailbox to every repository
  ansible.builtin.command:
    cmd: >-
      /usr/local/sbin/mail-backup-tool archive --address {{ item | quote }}
      {{ backup_repositories | map(attribute='name') | mail_cli_options('--repository') }}
# [primary, "copy two"] with --repository -> " --repository primary --repository 'copy two'"
"""

RETURN = r"""
_value:
  description: The options, each with a leading space; empty for no values.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"mail_cli_options": mail_cli_options}
