"""The vn_local_part filter: mailbox local part of a Vietnamese name. The logic is plugins/plugin_utils/names.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.names import vn_local_part

DOCUMENTATION = r"""
name: vn_local_part
short_description: lowercase ASCII mailbox local part for a Vietnamese full name
description:
  - The name is written C(Family Middle... Given) (C(Nguyễn Văn Lộc) is family C(nguyen), middle
    C([van]), given C(loc)) and folded to ASCII as C(vn_ascii) does.
  - "Placeholders of O(pattern): C({given}) (loc), C({family}) (nguyen), C({middle}) (van; several
    middle names are joined), C({initials}) (initials of family and middle names: nv),
    C({all_initials}) (nvl), C({full}) (nguyenvanloc). Besides placeholders the pattern may hold
    C(.), C(-), C(_), lowercase ASCII letters and digits."
  - Runs of separators collapse to their first character and separators at either end are
    stripped, so a one-word name gives just the given name whatever the pattern. Characters
    inside a name that are not letters or digits (hyphen, apostrophe, dot) are dropped.
  - The result matches C(^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$) and is at most 64 characters, else an
    error.
  - Related filters are C(vn_ascii) and C(mail_assign_addresses).
positional: _input, pattern
options:
  _input:
    description: The full Vietnamese name.
    type: str
    required: true
  pattern:
    description: Local part pattern (see the description).
    type: str
    default: '{given}{initials}'
notes:
  - Errors name the person's name or the malformed pattern.
"""

EXAMPLES = r"""
local: "{{ 'Nguyễn Văn Lộc' | vn_local_part }}"                     # locnv
dotted: "{{ 'Nguyễn Văn Lộc' | vn_local_part('{given}.{family}') }}"  # loc.nguyen
"""

RETURN = r"""
_value:
  description: The local part, lowercase ASCII.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"vn_local_part": vn_local_part}
