"""The option the audit filters share (mail_audit_hosts, mail_audit_hostvars): the run's hostvars."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  hostvars:
    description:
      - Ansible's C(hostvars) of the run, read per host by name (each variable templated as a
        play reads it; a variable the host does not have counts as not set).
    type: dict
    required: true
"""
