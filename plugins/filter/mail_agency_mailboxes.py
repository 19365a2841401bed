"""The mail_agency_mailboxes filter: the mailboxes of each agency and its sub-units. The logic is plugins/plugin_utils/directory.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.directory import mail_agency_mailboxes

DOCUMENTATION = r"""
name: mail_agency_mailboxes
short_description: the mailboxes of each agency and all its sub-units, for a restore by agency
description:
  - For the backup_client role's C(backup_agencies). Returns {code, sorted addresses} for every code of
    O(parents) (in its order) - the accounts whose C(agency) is that code or any of its sub-units,
    to any depth.
  - Codes match case-insensitively; the result uses the codes as written in O(parents).
  - Accounts without C(agency) are ignored, and so are those whose C(action) is
    C(archive_then_remove) (their mailbox is removed after a verified archive and is restored on
    its own from that archive snapshot).
positional: _input, parents
options:
  _input:
    description: Effective accounts (the output of C(mail_apply_lifecycle)); each may carry C(agency), a code.
    type: list
    elements: dict
    required: true
  parents:
    description: >-
      The mapping code -> parent code or null of every agency and sub-unit
      (C(mail_directory_result.agency_parents), or written out in an inventory with literal C(mail_accounts)).
    type: dict
    required: true
notes:
  - "Errors: parents not a mapping, a parent that is not itself a code (agency 'X' has unknown parent 'Y'),
    a cycle (named), an account whose agency is not a code (naming the account and the known codes)."
"""

EXAMPLES = r"""
backup_agencies: "{{ mail_accounts_effective | mail_agency_mailboxes(mail_directory_result.agency_parents) }}"
# agency_parents {VP: null, VP-LT: VP, SNV: null}
# -> {VP: [hoatt@, locnv@, luutru@, vanphong@], VP-LT: [hoatt@, luutru@], SNV: [locnv2@, sonoivu@]}
"""

RETURN = r"""
_value:
  description: Agency code -> the sorted addresses of it and its sub-units.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_agency_mailboxes": mail_agency_mailboxes}
