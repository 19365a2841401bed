"""The vn_ascii filter: fold Vietnamese text to ASCII. The logic is plugins/plugin_utils/names.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.names import vn_ascii

DOCUMENTATION = r"""
name: vn_ascii
short_description: fold Vietnamese text to ASCII, keeping case
description:
  - Precomposed (NFC) and combining (NFD) input give the same result; every tone mark and
    diacritic is removed, C(Đ)/C(đ) become C(D)/C(d) (also the look-alike C(Ð) U+00D0).
  - Case is kept. Any character that still is not ASCII after that is dropped.
  - Related filters are C(vn_local_part) and C(mail_assign_addresses).
positional: _input
options:
  _input:
    description: The text.
    type: str
    required: true
notes:
  - Anything but a string is an error naming its type.
"""

EXAMPLES = r"""
ascii: "{{ 'Đặng Thị Ánh' | vn_ascii }}"  # Dang Thi Anh
"""

RETURN = r"""
_value:
  description: The text in ASCII, case kept.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"vn_ascii": vn_ascii}
