"""The mail_backup_restore_target filter: what a restore's scope brings back. The logic is
plugins/plugin_utils/backup.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.backup import mail_backup_restore_target

DOCUMENTATION = r"""
name: mail_backup_restore_target
short_description: what a restore's scope (all, a domain, a mailbox or an agency) brings back
description:
  - Reads O(_input), the backup_client role's C(backup_restore_scope) (C(all), C(domain:<domain>),
    C(mailbox:<address>) or C(agency:<code>)), with the agencies' mailboxes O(agencies) and the store
    O(vmail_dir).
  - C(code) is what follows the kind; C(agency) the codes of O(agencies) equal to it in any letter
    case (one, or none when unknown); C(mailboxes) the one mailbox of C(mailbox:), else that
    agency's mailboxes, else none; C(mailbox_dirs) their directories C(<vmail_dir>/<domain>/<local part>).
  - C(includes) is what restic restores, C(--include) each, the manifest aside - the store for
    C(all), the domain's directory for C(domain:), else C(mailbox_dirs).
  - The scope's syntax and an agency without mailboxes are checked by the role's restore; a mailbox
    that is not text stops with an error naming it.
positional: _input, agencies, vmail_dir
options:
  _input:
    description: The scope.
    type: str
    required: true
  agencies:
    description: Agency code to its mailbox addresses (C(backup_agencies)).
    type: dict
    required: true
  vmail_dir:
    description: The mail store (C(backup_vmail_dir)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Restore the snapshot's part into the staging directory
  ansible.builtin.command:
    cmd: >-
      /usr/local/sbin/mail-restic primary restore latest --target /var/vmail/.restore-stage
      {{ (backup_restore_scope | mail_backup_restore_target(backup_agencies, '/var/vmail')).includes
         | mail_cli_options('--include') }}
# agency:vp with {VP: [vanphong@gialai.gov.vn, hoatt@gialai.gov.vn]}, /var/vmail
#   -> {code: vp, agency: [VP], mailboxes: [vanphong@gialai.gov.vn, hoatt@gialai.gov.vn],
#       mailbox_dirs: [/var/vmail/gialai.gov.vn/vanphong, /var/vmail/gialai.gov.vn/hoatt], includes: (the same)}
"""

RETURN = r"""
_value:
  description: C(code), C(agency), C(mailboxes), C(mailbox_dirs) and C(includes), as above.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_backup_restore_target": mail_backup_restore_target}
