"""The mail_passwd_parse filter: user -> hash from a Dovecot passwd-file. The logic is plugins/plugin_utils/passwords.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_passwd_parse

DOCUMENTATION = r"""
name: mail_passwd_parse
short_description: the user -> hash mapping of a Dovecot passwd-file
description:
  - Reads C(user:{SCHEME}hash:uid:gid::home::extra) lines. Blank lines and C(#) comments are
    skipped; missing trailing fields are fine; a line with only a user gives an empty hash; when a
    user appears twice the first line wins, as in Dovecot.
  - Null or empty text gives an empty mapping.
positional: _input
options:
  _input:
    description: The text of the passwd-file.
    type: str
    required: true
"""

EXAMPLES = r"""
current: "{{ (lookup('ansible.builtin.file', 'users') | mail_passwd_parse).get('locnv@gialai.gov.vn') }}"
"""

RETURN = r"""
_value:
  description: User -> hash (with its scheme prefix as written).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_passwd_parse": mail_passwd_parse}
