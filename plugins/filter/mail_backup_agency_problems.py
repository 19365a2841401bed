"""The mail_backup_agency_problems filter: the entries of backup_agencies that are not a code with a
list of mailbox addresses. The logic is plugins/plugin_utils/backup.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import mail_backup_agency_problems

DOCUMENTATION = r"""
name: mail_backup_agency_problems
short_description: the wrong entries of backup_agencies (agency code -> its mailboxes)
description:
  - Checks O(_input), the backup_client role's C(backup_agencies), which maps each agency code to
    the list of its mailbox addresses (restore.yml's C(agency:<code>) restores them).
  - An entry is wrong when its value is not a list (a string, a mapping, a number, null) or holds
    anything but mailbox addresses (C(local@domain), the domain in lower case, no space or slash).
  - Each wrong entry is named as its code, a space and its value as text, cut as Jinja's
    C(truncate(80)) cuts it (whole up to 85 characters, else about 80 and C(...)).
  - Anything but a mapping gives an empty list; the caller says what it is instead.
positional: _input
options:
  _input:
    description: backup_agencies, e.g. C(mail_accounts_effective | mail_agency_mailboxes(mail_agency_parents)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the agencies' mailboxes
  gialai.mail.checks:
    checks:
      - name: Check the agencies' mailboxes (backup_agencies, restores by agency)
        that: backup_agencies is mapping and backup_agencies | mail_backup_agency_problems == []
        msg: "backup_agencies: not {{ backup_agencies | mail_backup_agency_problems | join(', ') }}"
# {VP: [vanphong@gialai.gov.vn], VP-LT: vanphong@gialai.gov.vn, SYT: [Thu Ky]}
# -> ["VP-LT vanphong@gialai.gov.vn", "SYT ['Thu Ky']"]
"""

RETURN = r"""
_value:
  description: One entry per wrong agency, C(<code> <value>), in the mapping's order; empty when all are right.
  type: list
  elements: str
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_agency_problems": mail_backup_agency_problems}
