"""The release_vars lookup: the release file a role loads for this host. The logic is
plugins/plugin_utils/release.py."""

from __future__ import annotations

from ansible.plugins.lookup import LookupBase

from ansible_collections.gialai.mail.plugins.plugin_utils.release import release_vars_file

DOCUMENTATION = r"""
name: release_vars
short_description: the path of the calling role's variables for the host's release
description:
  - Returns C(<role_path>/vars/<distribution>-<major version>.yml) from the host's facts
    (C(ansible_facts['distribution']), C(ansible_facts['distribution_major_version'])), e.g.
    C(roles/dovecot/vars/Debian-13.yml) on Debian 13, for C(ansible.builtin.include_vars).
  - Stops with an error naming the role, the release and the releases the role has when the role
    has no file for the host's release, or when facts were not gathered.
  - Takes no terms; it reads C(role_path), so call it from a task of the role.
"""

EXAMPLES = r"""
- name: Load the release's variables
  ansible.builtin.include_vars: "{{ lookup('gialai.mail.release_vars') }}"
  tags: [always]
"""

RETURN = r"""
_raw:
  description: One path, the role's release file.
  type: list
  elements: path
"""


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        variables = variables or {}
        facts = variables.get("ansible_facts") or {}
        return [release_vars_file(variables.get("role_path"), facts.get("distribution"),
                                  facts.get("distribution_major_version"))]
