"""Mitogen's podman transport under the name the mail_mitogen_linear strategy redirects to.

Only loaded while that strategy runs (plugins/strategy/mail_mitogen_linear.py):
there ``podman_pipelined`` hosts are reached by Mitogen's own podman
connection, one persistent interpreter per container.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_podman_pipelined
short_description: Mitogen's podman connection (used by the mail_mitogen_linear strategy)
description:
  - Mitogen for Ansible's podman transport, for hosts whose ansible_connection is podman_pipelined.
author: gialai-mail
"""

import ansible_mitogen.plugins.connection.mitogen_podman as _mitogen_podman


class Connection(_mitogen_podman.Connection):
    """Mitogen's podman connection."""
