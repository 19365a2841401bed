"""The options the lifecycle filters share (mail_lifecycle, mail_lifecycle_changes, mail_apply_lifecycle).

The defaults shown are those of plugins/plugin_utils/lifecycle.py (RETENTION_MONTHS,
LEADER_RETENTION_MONTHS, DEFAULT_LEADER_ROLES); tests/unit/test_collection.py checks they agree.
"""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  today:
    description: The date to evaluate at, an ISO date string (C(YYYY-MM-DD)) or a date.
    type: str
    required: true
  retention_months:
    description: Months a departed account keeps receiving mail (null means the default).
    type: int
    default: 6
  leader_retention_months:
    description: Months for accounts whose role is in O(leader_roles) (null means the default).
    type: int
    default: 12
  leader_roles:
    description: Roles that get O(leader_retention_months) (compared case-insensitively).
    type: list
    elements: str
    default: [leader, director, deputy_director, head]
"""
