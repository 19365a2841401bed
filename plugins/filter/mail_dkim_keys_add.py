"""The mail_dkim_keys_add filter: the DKIM keys from vault with the keys read from a snapshot added. The logic is plugins/plugin_utils/dkim.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.dkim import mail_dkim_keys_add

DOCUMENTATION = r"""
name: mail_dkim_keys_add
short_description: the DKIM keys from vault with the keys read from a snapshot added
description:
  - O(_input) (the keys from vault, C(domain -> algorithm -> key)) with each key of O(contents) (a
    path read from the snapshot to its text) added under the domain and algorithm O(files) gives
    for its path; merged as C(combine(recursive=true)) merges (a domain's other keys kept).
  - A path that O(files) does not name stops with an error naming it.
positional: _input, files, contents
options:
  _input:
    description: The keys from vault (C(dkim_private_keys)), domain to algorithm to key.
    type: dict
    required: true
  files:
    description: Path to C([domain, algorithm]) (C(mail_dkim_snapshot_files)).
    type: dict
    required: true
  contents:
    description: Path to the key's text (the backup_client role's C(backup_read_files_content)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Add them to the keys from vault
  ansible.builtin.set_fact:
    __rebuild_dkim_keys: >-
      {{ dkim_private_keys | default({}) | mail_dkim_keys_add(__rebuild_dkim_files, backup_read_files_content) }}
  no_log: true
# {a.vn: {rsa: R}} with {/k/a.vn/se.private: [a.vn, ed25519]} and {/k/a.vn/se.private: E}
#   -> {a.vn: {rsa: R, ed25519: E}}
"""

RETURN = r"""
_value:
  description: 'The keys, C({domain: {algorithm: key}}).'
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_dkim_keys_add": mail_dkim_keys_add}
