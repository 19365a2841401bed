"""The tls_profile filter: the TLS policy of a named profile. The logic is plugins/plugin_utils/tls.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.tls import tls_profile

DOCUMENTATION = r"""
name: tls_profile
short_description: Return the TLS policy (protocols, ciphers, groups) of a named profile
description:
  - One TLS policy for Postfix, Dovecot and any later service, after the Mozilla
    server-side TLS guidelines (version 5.7).
  - C(intermediate) is TLS 1.2 and 1.3, ECDHE key exchange with AEAD ciphers only,
    groups X25519, P-256, P-384. The DHE suites of Mozilla's list are left out on
    purpose, so no finite-field DH parameters exist to get wrong (1024-bit DH is the
    classic Postfix failure).
  - C(modern) is TLS 1.3 only. On port 25 this makes senders limited to TLS 1.2
    fall back to plaintext, so it is meant for submission/IMAP-only hosts.
positional: _input
options:
  _input:
    description: Profile name.
    type: str
    required: true
    choices: [intermediate, modern]
"""

EXAMPLES = r"""
- name: Render Dovecot's cipher list from the profile
  ansible.builtin.debug:
    msg: "ssl_cipher_list = {{ ('intermediate' | tls_profile).openssl_ciphers }}"
"""

RETURN = r"""
_value:
  description: >-
    Dict with C(name), C(min_protocol) (OpenSSL name, e.g. TLSv1.2),
    C(postfix_protocols) (e.g. ">=TLSv1.2"), C(openssl_ciphers) (TLS 1.2 cipher
    string, empty for modern), C(curves) (list of OpenSSL group names) and
    C(prefer_server_ciphers) (bool).
  type: dict
"""


class FilterModule:
    def filters(self):
        return {"tls_profile": tls_profile}
