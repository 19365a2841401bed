"""The mail_backup_read_contents filter: the files restic dump found, path to text. The logic is plugins/plugin_utils/backup_runs.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup_runs import mail_backup_read_contents

DOCUMENTATION = r"""
name: mail_backup_read_contents
short_description: the files restic dump found, path to text
description:
  - Reads O(_input), the results of a loop of C(restic dump) over file paths (the backup_client role's
    C(read_files) entry point, one loop item a path).
  - Each result whose C(rc) is 0 gives its path and its output with a newline added (C(restic dump)
    gives a file's bytes; the task's stdout loses the last newline); the others, a path the snapshot
    does not hold, are left out.
positional: _input
options:
  _input:
    description:
      - The loop's C(results) (C(backup_read_dump.results)), one per path, each with C(item), C(rc)
        and C(stdout).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Keep what was found
  ansible.builtin.set_fact:
    backup_read_files_content: "{{ backup_read_dump.results | mail_backup_read_contents }}"
  no_log: true
# [{item: /etc/dkimkeys/a/s.private, rc: 0, stdout: KEY}, {item: /x, rc: 1, stdout: ""}]
#   -> {/etc/dkimkeys/a/s.private: "KEY\n"}
"""

RETURN = r"""
_value:
  description: Path to the file's text, in the loop's order.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_read_contents": mail_backup_read_contents}
