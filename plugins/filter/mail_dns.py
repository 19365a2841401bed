"""The DNS records a mail domain must publish, in zone-file syntax."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: mail_dns_records
short_description: Render the DNS records of one mail domain as zone-file text
description:
  - MX, SPF (C(v=spf1 mx -all)), one DKIM TXT record per key, DMARC (C(p=reject) with a
    report address), MTA-STS and TLS-RPT, the MX host's address records when the host is
    in this domain, and TLSA (DANE, C(3 1 1)) only when the zone is DNSSEC-signed.
  - Names are absolute (trailing dot), long TXT values are split into 255-byte strings in
    parentheses, as BIND, NSD, Knot and dnspython read them.
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

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def _name(name: str, what: str) -> str:
    name = str(name).strip().lower().rstrip(".")
    if not name or len(name) > 253 or not all(_LABEL.match(p) for p in name.split(".")):
        raise AnsibleFilterError(f"mail_dns_records: {what} '{name}' is not a valid DNS name")
    return name


def _der(b64: str, what: str) -> bytes:
    try:
        return base64.b64decode("".join(str(b64).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AnsibleFilterError(f"mail_dns_records: {what} is not base64 DER ({exc})") from exc


def txt(value: str) -> str:
    """A TXT value as quoted strings of at most 255 bytes, parenthesised when split."""
    if any(c in value for c in '"\\\n'):
        raise AnsibleFilterError(f"mail_dns_records: TXT value with quote, backslash or newline: {value!r}")
    chunks = [value[i:i + 255] for i in range(0, len(value), 255)] or [""]
    if len(chunks) == 1:
        return f'"{chunks[0]}"'
    return "( " + "\n    ".join(f'"{c}"' for c in chunks) + " )"


def dkim_txt(algorithm: str, public_key: str) -> str:
    """The DKIM key record value (RFC 6376 / RFC 8463) from a base64 SPKI DER public key."""
    der = _der(public_key, "DKIM public key")
    if algorithm == "rsa":
        if len(der) < 200:
            raise AnsibleFilterError("mail_dns_records: RSA DKIM key shorter than 1024 bits")
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()
    if algorithm == "ed25519":
        if len(der) != 44 or not der.startswith(_ED25519_SPKI_PREFIX):
            raise AnsibleFilterError("mail_dns_records: not an Ed25519 public key")
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(der[12:]).decode()
    raise AnsibleFilterError(f"mail_dns_records: unknown DKIM algorithm '{algorithm}' (rsa, ed25519)")


def mail_dns_records(domain, mx, dmarc_rua, tlsrpt_rua, mta_sts_id, dkim=None, ipv4=None, ipv6=None,
                     dmarc_policy="reject", dnssec=False, tlsa_spki=None, ttl=3600, mta_sts_mode="testing"):
    domain = _name(domain, "domain")
    mx = _name(mx, "MX host")
    if dmarc_policy not in ("none", "quarantine", "reject"):
        raise AnsibleFilterError(f"mail_dns_records: dmarc_policy '{dmarc_policy}' (none, quarantine, reject)")
    for what, uri in (("dmarc_rua", dmarc_rua), ("tlsrpt_rua", tlsrpt_rua)):
        if not re.match(r"^mailto:[^@\s;,!]+@[^@\s;,!]+$", str(uri)):
            raise AnsibleFilterError(f"mail_dns_records: {what} '{uri}' must be mailto:address")
    if not re.match(r"^[A-Za-z0-9]{1,32}$", str(mta_sts_id)):
        raise AnsibleFilterError(f"mail_dns_records: mta_sts_id '{mta_sts_id}' must be 1-32 letters/digits")
    if mta_sts_mode not in ("testing", "enforce"):
        raise AnsibleFilterError(f"mail_dns_records: mta_sts_mode '{mta_sts_mode}' (testing, enforce)")
    ttl = int(ttl)
    in_zone = mx == domain or mx.endswith("." + domain)
    lines = [f"; DNS records for {domain} (mail_dns_records). Publish them in the {domain} zone.",
             f"{domain}. {ttl} IN MX 10 {mx}."]
    if in_zone and ipv4:
        lines.append(f"{mx}. {ttl} IN A {ipv4}")
    if in_zone and ipv6:
        lines.append(f"{mx}. {ttl} IN AAAA {ipv6}")
    if not in_zone:
        lines.append(f"; {mx} is in another zone: its A/AAAA (and TLSA) records are published there.")
    lines.append(f"{domain}. {ttl} IN TXT {txt('v=spf1 mx -all')}")
    for key in dkim or []:
        selector = str(key.get("selector", ""))
        if not _LABEL.match(selector):
            raise AnsibleFilterError(f"mail_dns_records: DKIM selector '{selector}' is not one DNS label")
        lines.append(f"{selector}._domainkey.{domain}. {ttl} IN TXT "
                     f"{txt(dkim_txt(key.get('algorithm', 'rsa'), key.get('public_key', '')))}")
    lines.append(f"_dmarc.{domain}. {ttl} IN TXT "
                 f"{txt(f'v=DMARC1; p={dmarc_policy}; sp={dmarc_policy}; rua={dmarc_rua}')}")
    lines.append(f"_mta-sts.{domain}. {ttl} IN TXT {txt(f'v=STSv1; id={mta_sts_id}')}")
    lines.append(f"_smtp._tls.{domain}. {ttl} IN TXT {txt(f'v=TLSRPTv1; rua={tlsrpt_rua}')}")
    lines.append(f"; MTA-STS also needs https://mta-sts.{domain}/.well-known/mta-sts.txt with a certificate "
                 f"trusted on the Internet: 'version: STSv1' 'mode: {mta_sts_mode}' 'mx: {mx}' 'max_age: 604800'.")
    if mta_sts_mode == "testing":
        lines.append(f"; WARNING: MTA-STS in 'testing' mode: {mx} has no certificate trusted on the Internet (the "
                     "internal CA). With 'enforce' every sending server that honours MTA-STS would refuse to "
                     "deliver. Supply a public certificate (tls_mode: supplied) before switching to 'enforce'.")
    if dnssec and in_zone:
        if not tlsa_spki:
            raise AnsibleFilterError("mail_dns_records: dnssec is on but the certificate key (tlsa_spki) is missing")
        digest = hashlib.sha256(_der(tlsa_spki, "certificate public key")).hexdigest()
        lines.append(f"_25._tcp.{mx}. {ttl} IN TLSA 3 1 1 {digest}")
    elif in_zone:
        lines.append(f"; No TLSA (DANE): the zone is not DNSSEC-signed (dns_records_dnssec: false).")
    return "\n".join(lines) + "\n"


class FilterModule:
    """DNS record filters."""

    def filters(self):
        return {"mail_dns_records": mail_dns_records}
