"""The mail_assign_addresses filter: give each person a mailbox address from their Vietnamese name. The logic is plugins/plugin_utils/names.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.names import mail_assign_addresses

DOCUMENTATION = r"""
name: mail_assign_addresses
short_description: give each person a mailbox address derived from their Vietnamese name
description:
  - Returns copies of the person mappings, each with C(address) set.
  - An explicit C(address) (a local part, or a full address) always wins and is reserved first.
  - Other people get C(vn_local_part(name, pattern))@domain.
  - When several people get the same generated address, they are sorted by C(id)
    (when present, else by name) and the first keeps the bare address; the others get
    suffixes 2, 3, ... skipping every address already taken. The result does not depend on
    the order of the input list.
  - A person whose address got a suffix also gets C(address_collision=true) and
    C(address_base) (the bare address it collided on).
  - Related filters are C(vn_ascii), C(vn_local_part), C(mail_valid_domain) and C(mail_valid_address).
positional: _input, domain, pattern
options:
  _input:
    description: >-
      List of mappings. C(name) (full Vietnamese name, required); C(address) (optional,
      explicit); C(domain) (optional, default O(domain)); C(id) (optional stable identifier,
      such as a staff number, unique when given).
    type: list
    elements: dict
    required: true
  domain:
    description: Mail domain for people without their own C(domain) or a full C(address).
    type: str
  pattern:
    description: Local part pattern, see C(vn_local_part).
    type: str
    default: '{given}{initials}'
notes:
  - Errors name the offending person; two people with the same explicit address, two
    people with the same C(id), an invalid domain or a missing name are errors.
"""

EXAMPLES = r"""
# people:
#   - {name: "Nguyễn Văn Lộc", id: "GL0012"}
#   - {name: "Nguyễn Vũ Lộc", id: "GL0007"}
#   - {name: "Trần Thị Đào", address: "daott"}
mailboxes: "{{ people | mail_assign_addresses('gialai.gov.vn') }}"
# -> Nguyễn Vũ Lộc (GL0007): locnv@gialai.gov.vn
#    Nguyễn Văn Lộc (GL0012): locnv2@gialai.gov.vn, address_collision: true,
#                             address_base: locnv@gialai.gov.vn
#    Trần Thị Đào: daott@gialai.gov.vn
"""

RETURN = r"""
_value:
  description: >-
    Copies of the input mappings with C(address) (lowercase full address) and, for people
    whose address got a numeric suffix, C(address_collision) and C(address_base).
  type: list
  elements: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_assign_addresses": mail_assign_addresses}
