"""TLS policy profiles rendered identically for every mail service.

``tls_profile(name)`` is the filter of that name (documented in ``plugins/filter/tls_profile.py``).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


_INTERMEDIATE_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)

PROFILES = {
    "intermediate": {
        "name": "intermediate",
        "min_protocol": "TLSv1.2",
        "postfix_protocols": ">=TLSv1.2",
        "openssl_ciphers": ":".join(_INTERMEDIATE_CIPHERS),
        "curves": ["X25519", "prime256v1", "secp384r1"],
        "prefer_server_ciphers": False,
    },
    "modern": {
        "name": "modern",
        "min_protocol": "TLSv1.3",
        "postfix_protocols": ">=TLSv1.3",
        "openssl_ciphers": ":".join(_INTERMEDIATE_CIPHERS),
        "curves": ["X25519", "prime256v1", "secp384r1"],
        "prefer_server_ciphers": False,
    },
}


def tls_profile(name):
    """Return a copy of the named TLS profile."""
    if not isinstance(name, str) or name not in PROFILES:
        raise AnsibleFilterError(
            f"unknown TLS profile {name!r}: choose one of {', '.join(sorted(PROFILES))}"
        )
    profile = dict(PROFILES[name])
    profile["curves"] = list(profile["curves"])
    return profile
