"""The mail_dns_records filter: the DNS records of one mail domain. The logic is plugins/plugin_utils/dns.py."""

from __future__ import annotations

from ansible_collections.gialai.mail.plugins.plugin_utils.dns import mail_dns_records

DOCUMENTATION = r"""
name: mail_dns_records
short_description: Render the DNS records of one mail domain as zone-file text
description:
  - MX, SPF (C(v=spf1 mx -all)), one DKIM TXT record per key, DMARC (C(p=reject) with a
    report address), MTA-STS and TLS-RPT, the MX host's address records when the host is
    in this domain, and TLSA (DANE, C(3 1 1)) only when the zone is DNSSEC-signed.
  - Names are absolute (trailing dot), long TXT values are split into 255-byte strings in
    parentheses, as BIND, NSD, Knot and dnspython read them.
  - The domain, the MX host and each DKIM selector must be valid DNS names (the rule of C(mail_valid_domain)
    without its at-least-one-dot part).
positional: _input
options:
  _input:
    description: The domain (zone) name.
    type: str
    required: true
  mx:
    description: The MX host name (mail.example.gov.vn).
    type: str
    required: true
  dkim:
    description: >-
      DKIM keys, each C(selector), C(algorithm) (rsa or ed25519) and C(public_key): the
      base64 DER SubjectPublicKeyInfo (C(openssl pkey -pubout -outform DER | base64)).
    type: list
    elements: dict
    default: []
  ipv4:
    description: Public IPv4 address of the MX host (A record; only when the host is in this domain).
    type: str
  ipv6:
    description: Public IPv6 address of the MX host (AAAA record).
    type: str
  dmarc_policy:
    description: DMARC policy.
    type: str
    default: reject
    choices: [none, quarantine, reject]
  dmarc_rua:
    description: Aggregate report address (mailto:).
    type: str
    required: true
  tlsrpt_rua:
    description: TLS-RPT report address (mailto:).
    type: str
    required: true
  mta_sts_id:
    description: MTA-STS policy id (change it whenever the policy changes).
    type: str
    required: true
  mta_sts_mode:
    description: >-
      The MTA-STS policy mode advised in the comment. C(enforce) only with a certificate trusted on
      the Internet (sending servers refuse delivery when it does not validate); with the internal CA
      use C(testing): the records then carry a warning saying why.
    type: str
    default: testing
    choices: [testing, enforce]
  dnssec:
    description: The zone is DNSSEC-signed; only then are TLSA records printed.
    type: bool
    default: false
  tlsa_spki:
    description: Base64 DER SubjectPublicKeyInfo of the MX certificate's key (TLSA 3 1 1).
    type: str
  ttl:
    description: TTL of every record.
    type: int
    default: 3600
"""

EXAMPLES = r"""
- name: Print the records of each domain
  ansible.builtin.debug:
    msg: "{{ 'gialai.gov.vn' | mail_dns_records(mx='mail.gialai.gov.vn', dkim=keys,
             dmarc_rua='mailto:dmarc@gialai.gov.vn', tlsrpt_rua='mailto:tlsrpt@gialai.gov.vn',
             mta_sts_id='20261128') }}"
"""

RETURN = r"""
_value:
  description: Zone-file text (a comment header, then one record per line or parenthesised group).
  type: str
"""


class FilterModule:
    def filters(self):
        return {"mail_dns_records": mail_dns_records}
