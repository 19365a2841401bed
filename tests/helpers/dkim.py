"""Verify a DKIM signature (RFC 6376, rsa-sha256) against a given public key.

The lab has no DNS for the served domains: a test reads the public key the DNS
record publishes (``p=``, base64 of the DER SubjectPublicKeyInfo, as
playbooks/dns-records.yml prints it) and checks a received message's signature
with it, as a receiver would after looking the record up. Relaxed and simple
canonicalization of headers and body; the ``l=`` tag is not supported (OpenDKIM
does not set it here).
"""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

_WSP = re.compile(rb"[ \t]+")


def _split(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(headers as (name, whole field with its folding, without the final CRLF), body)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, _sep, body = raw.partition(b"\r\n\r\n")
    fields: list[bytes] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\r\n" + line
        else:
            fields.append(line)
    return [(f.split(b":", 1)[0].strip().lower(), f) for f in fields if b":" in f], body


def _header(field: bytes, canon: str) -> bytes:
    if canon == "simple":
        return field + b"\r\n"
    name, value = field.split(b":", 1)
    value = _WSP.sub(b" ", value.replace(b"\r\n", b"")).strip()
    return name.strip().lower() + b":" + value + b"\r\n"


def _body(body: bytes, canon: str) -> bytes:
    if canon == "relaxed":
        body = b"\r\n".join(_WSP.sub(b" ", line).rstrip(b" ") for line in body.split(b"\r\n"))
    while body.endswith(b"\r\n\r\n"):
        body = body[:-2]
    if canon == "relaxed" and body in (b"", b"\r\n"):
        return b""
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body


def tags(field: bytes) -> dict[str, str]:
    """The tag=value list of a DKIM-Signature field, whitespace removed."""
    value = field.split(b":", 1)[1].decode()
    out = {}
    for part in value.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = re.sub(r"\s+", "", v)
    return out


def verify(raw: bytes, public_key_b64: str, domain: str, selector: str) -> tuple[bool, str]:
    """(True, "") when a DKIM-Signature of d=domain, s=selector in raw verifies with the key; else (False, why)."""
    headers, body = _split(raw)
    sigs = [f for n, f in headers if n == b"dkim-signature"]
    mine = [f for f in sigs if tags(f).get("d") == domain and tags(f).get("s") == selector]
    if not mine:
        return False, f"no DKIM-Signature with d={domain} s={selector} (found {[tags(f).get('s') for f in sigs]})"
    field = mine[0]
    t = tags(field)
    if t.get("a") != "rsa-sha256" or "l" in t:
        return False, f"unsupported a={t.get('a')} or l= present"
    hcanon, _, bcanon = t.get("c", "simple/simple").partition("/")
    bcanon = bcanon or "simple"
    bh = base64.b64encode(hashlib.sha256(_body(body, bcanon)).digest()).decode()
    if bh != t["bh"]:
        return False, f"body hash differs: {bh} != {t['bh']}"
    # h=: each name takes the last unused instance, bottom up; a name with none left adds nothing.
    remaining = {}
    for name, f in headers:
        remaining.setdefault(name, []).append(f)
    data = b""
    for name in (n.strip().lower().encode() for n in t["h"].split(":")):
        if remaining.get(name):
            data += _header(remaining[name].pop(), hcanon)
    # the signature field itself last, its b= value (not bh=) empty, without the final CRLF
    data += re.sub(rb"(;\s*b=)[^;]*", rb"\1", _header(field, hcanon)[:-2], count=1)
    key = serialization.load_der_public_key(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(t["b"]), data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False, "the signature does not verify with this key"
    return True, ""
