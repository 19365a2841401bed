"""The DNS records a mail domain must publish, in zone-file syntax.

``mail_dns_records`` is documented in ``plugins/filter/mail_dns_records.py``; ``txt`` and
``dkim_txt`` are its building blocks. Names and the DKIM selector are checked by the one
DNS-name rule of ``names.py`` (``valid_dns_name``, ``valid_dns_label``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.names import valid_dns_label, valid_dns_name


_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


def _name(name: str, what: str) -> str:
    name = str(name).strip().lower().rstrip(".")
    if not valid_dns_name(name):
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
        if not valid_dns_label(selector):
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
