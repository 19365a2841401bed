"""tests/helpers/dkim.py, the DKIM check of the backup scenario's rebuild test (BAK-13), against a
signature made by another implementation (dkimpy 1.1.8, relaxed/simple as OpenDKIM here, From
oversigned), then delivered as Dovecot stores it (LF line ends, headers added on top)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.helpers import dkim

PUBLIC_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1/b6Bre65ST+A/KjJrX+VBkXttQX5F//36Yw/7YCQHzzGJMSMw2N"
    "fBiKfrmpsja4uPqEFzfpDE5O7OMGjY+jdH33ZbZYjk8Qqg0VX+sn0kWZ+4GC+fglqN2K1RYUoRrs0ZI1rYMZ4kbexyasP8II"
    "oah77wk3mXgw53X9sDxXJCqMbXa1Rx5yjnnog0Kgyb5RhnggVF59xbISz3ON7KcOuh0QlqbGsywFsHrXVc1cLVyHSwisJ5Nw"
    "bDhVtv1aigCHLkEVwzGNrCcbEzZJTBAL5MzHChuDsq2fkfbFfsbmdZaLCI3tFYMvm+y9rgbDDR6YYE9jllzbuyWa9KEjLYGm"
    "0wIDAQAB"
)
SIGNED = (
    b'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=gialai.gov.vn;\r\n'
    b' i=@gialai.gov.vn; q=dns/txt; s=s202611; t=1796310127; h=from : from :\r\n'
    b' to : subject : message-id : date;\r\n'
    b' bh=vQsvhsbGkTGXUPYSjH1e0O4Nz/7EqCWvOnJ7T4CDB6Y=;\r\n'
    b' b=ad0fgwp59QAwBQiBy3GpkS5nuh/BaiLb2j14Kq9GRwWrr4Qoli6Wa71kx+2UrIgZRgrtw\r\n'
    b' AWzvXxRVM2tKVih52zYzNS4r9YjHqVb+YcQboKMdDO2lf825QJMWl43zOfms/EgQHDyNxcZ\r\n'
    b' 2NVfZAnDwN30XXIqx6TVgHD8ikbkdPMneS+vJ5w+w1rirI+0iipBPBIu6b3ZTy/DPM6mZzf\r\n'
    b' PBmlslW1Kqs+IdUWdioZdgwisS1n0X9cdHQefKb73SIgQ0S0ZZ/aWn/mDylKiVH0ji0M1Gz\r\n'
    b' 3/siCDS5F6J2GJbHJl2erHjZE09sY1Oj/FyNcBuBUGjy0XiU1VDJsi8HgNTA==\r\n'
    b'From: postmaster@gialai.gov.vn\r\n'
    b'To: postmaster@gialai.gov.vn\r\n'
    b'Subject: DKIM after the rebuild\r\n'
    b'Message-ID: <dkim-rebuild-1@mail.gialai.gov.vn>\r\n'
    b'Date: Thu, 03 Dec 2026 15:00:00 +0000\r\n'
    b'\r\n'
    b'Signed  with the old key.  \r\n'
    b'\r\n'
)


def test_a_signature_from_another_implementation_verifies():
    assert dkim.verify(SIGNED, PUBLIC_KEY, "gialai.gov.vn", "s202611") == (True, "")


def test_as_stored_with_lf_and_delivery_headers_on_top():
    stored = b"Return-Path: <postmaster@gialai.gov.vn>\nDelivered-To: postmaster@gialai.gov.vn\n" + SIGNED.replace(
        b"\r\n", b"\n")
    assert dkim.verify(stored, PUBLIC_KEY, "gialai.gov.vn", "s202611") == (True, "")


def test_another_key_a_changed_body_or_header_or_selector_do_not_verify():
    other = base64.b64encode(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode()
    assert dkim.verify(SIGNED, other, "gialai.gov.vn", "s202611")[0] is False
    assert dkim.verify(SIGNED.replace(b"old key", b"new key"), PUBLIC_KEY, "gialai.gov.vn", "s202611")[1].startswith(
        "body hash differs")
    assert dkim.verify(SIGNED.replace(b"after the rebuild", b"after the Rebuild"), PUBLIC_KEY, "gialai.gov.vn",
                       "s202611") == (False, "the signature does not verify with this key")
    # a second From added below the signed one: the oversigned From covers its absence
    two_from = SIGNED.replace(b"To: ", b"From: attacker@example.org\r\nTo: ", 1)
    assert dkim.verify(two_from, PUBLIC_KEY, "gialai.gov.vn", "s202611")[0] is False
    assert dkim.verify(SIGNED, PUBLIC_KEY, "gialai.gov.vn", "s202612")[1].startswith("no DKIM-Signature")
