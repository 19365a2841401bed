"""The mail_dkim_snapshot_files filter: the DKIM key files a rebuilt host reads from its snapshot. The logic is plugins/plugin_utils/dkim.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.dkim import mail_dkim_snapshot_files

DOCUMENTATION = r"""
name: mail_dkim_snapshot_files
short_description: the DKIM key files a rebuilt host reads from its snapshot
description:
  - For each domain of O(_input) and each algorithm of O(algorithms) (domains first) whose key is not
    supplied from vault (O(private_keys)), the path of the key file the dkim role generated on the
    host, C(<key_dir>/<domain>/<selector>.private), with its domain and algorithm.
positional: _input, algorithms, key_dir, selectors, private_keys
options:
  _input:
    description: The signed domains (C(dkim_domains)).
    type: list
    elements: str
    required: true
  algorithms:
    description: The key algorithms, C(rsa) and, with Ed25519 on, C(ed25519).
    type: list
    elements: str
    required: true
  key_dir:
    description: The keys' directory (C(dkim_key_dir)).
    type: str
    required: true
  selectors:
    description: Algorithm to its selector.
    type: dict
    required: true
  private_keys:
    description: 'The keys from vault, C({domain: {algorithm: key}}) (C(dkim_private_keys)).'
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the generated DKIM keys from the snapshot
  ansible.builtin.include_role:
    name: backup_client
    tasks_from: read_files
  vars:
    backup_read_files: >-
      {{ dkim_domains | mail_dkim_snapshot_files(['rsa'], '/etc/dkimkeys', {'rsa': 'mail2026'},
         dkim_private_keys | default({})) | list }}
# [gialai.gov.vn, sotc.gialai.gov.vn], rsa and ed25519, selectors {rsa: s, ed25519: se},
# vault {gialai.gov.vn: {rsa: KEY}}
#   -> {/etc/dkimkeys/gialai.gov.vn/se.private: [gialai.gov.vn, ed25519],
#       /etc/dkimkeys/sotc.gialai.gov.vn/s.private: [sotc.gialai.gov.vn, rsa], ...}
"""

RETURN = r"""
_value:
  description: Path to C([domain, algorithm]), in the order of the domains, then the algorithms.
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"mail_dkim_snapshot_files": mail_dkim_snapshot_files}
