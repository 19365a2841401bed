"""The mail_backup_archive_results filter: the archived and the failed mailboxes of a run of mail-backup-tool archive. The logic is plugins/plugin_utils/backup_runs.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup_runs import mail_backup_archive_results

DOCUMENTATION = r"""
name: mail_backup_archive_results
short_description: the archived and the failed mailboxes of a run of mail-backup-tool archive
description:
  - Splits O(_input), the results of the backup_client role's loop of C(mail-backup-tool archive)
    (one item a mailbox address).
  - C(archived) holds the results whose C(stdout) is the tool's JSON (it starts with C({)).
  - C(failed) holds the results that ran (have an C(rc)) and did not return 0.
  - A mailbox archived before (the command skipped, Ansible's text, no C(rc)) is in neither.
positional: _input
options:
  _input:
    description: The loop's C(results).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Stop on a mailbox that could not be archived (it is kept)
  ansible.builtin.fail:
    msg: "archive of {{ item.item }} FAILED"
  loop: "{{ (backup_archive_run.results | default([]) | mail_backup_archive_results).failed }}"
# [{item: a@x, rc: 0, stdout: '{"removed": true}'}, {item: b@x, rc: 2, stdout: '{"problems": [..]}'},
#  {item: c@x, stdout: "skipped, since ... does not exist"}]
#   -> {archived: [a@x's, b@x's], failed: [b@x's]}
"""

RETURN = r"""
_value:
  description: C(archived) and C(failed), each a list of the loop's results in order.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_archive_results": mail_backup_archive_results}
