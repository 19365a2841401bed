"""mail_dns_records: the printed records parse as a zone and carry the keys."""

from __future__ import annotations

import base64
import hashlib
import subprocess

import dns.rdatatype
import dns.zone
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.gialai.mail.plugins.plugin_utils.dns import dkim_txt, mail_dns_records, txt

SOA = "@ 3600 IN SOA ns.gialai.gov.vn. hostmaster.gialai.gov.vn. 1 3600 600 86400 3600\n@ 3600 IN NS ns.gialai.gov.vn.\n"


def _spki(algorithm: str) -> str:
    if algorithm == "rsa":
        gen = ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    else:
        gen = ["openssl", "genpkey", "-algorithm", "ed25519"]
    key = subprocess.run(gen, capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"], input=key, capture_output=True,
                         check=True).stdout
    return base64.b64encode(der).decode()


@pytest.fixture(scope="module")
def keys():
    return {"rsa": _spki("rsa"), "ed25519": _spki("ed25519")}


def _records(keys, **kw):
    args = dict(mx="mail.gialai.gov.vn", dmarc_rua="mailto:dmarc@gialai.gov.vn",
                tlsrpt_rua="mailto:tlsrpt@gialai.gov.vn", mta_sts_id="20261128", ipv4="203.0.113.25",
                dkim=[{"selector": "s202611", "algorithm": "rsa", "public_key": keys["rsa"]},
                      {"selector": "s202611e", "algorithm": "ed25519", "public_key": keys["ed25519"]}])
    args.update(kw)
    return mail_dns_records("gialai.gov.vn", **args)


def _zone(text):
    return dns.zone.from_text(SOA + text, origin="gialai.gov.vn.", relativize=False, check_origin=True)


def _txt(zone, name):
    rdataset = zone.find_rdataset(name, dns.rdatatype.TXT)
    return b"".join(b"".join(r.strings) for r in rdataset).decode()


@pytest.mark.control("EDGE-08")
def test_records_parse_as_a_zone_and_carry_the_keys(keys):
    zone = _zone(_records(keys))
    mx = zone.find_rdataset("gialai.gov.vn.", dns.rdatatype.MX)
    assert [str(r.exchange) for r in mx] == ["mail.gialai.gov.vn."]
    assert str(zone.find_rdataset("mail.gialai.gov.vn.", dns.rdatatype.A)[0]) == "203.0.113.25"
    assert _txt(zone, "gialai.gov.vn.") == "v=spf1 mx -all"
    rsa = _txt(zone, "s202611._domainkey.gialai.gov.vn.")
    assert rsa == "v=DKIM1; k=rsa; p=" + keys["rsa"]
    ed = _txt(zone, "s202611e._domainkey.gialai.gov.vn.")
    assert ed == "v=DKIM1; k=ed25519; p=" + base64.b64encode(base64.b64decode(keys["ed25519"])[12:]).decode()
    assert "p=reject" in _txt(zone, "_dmarc.gialai.gov.vn.") and "rua=mailto:dmarc@gialai.gov.vn" in _txt(
        zone, "_dmarc.gialai.gov.vn.")
    assert _txt(zone, "_mta-sts.gialai.gov.vn.") == "v=STSv1; id=20261128"
    assert _txt(zone, "_smtp._tls.gialai.gov.vn.") == "v=TLSRPTv1; rua=mailto:tlsrpt@gialai.gov.vn"
    assert zone.get_rdataset("_25._tcp.mail.gialai.gov.vn.", dns.rdatatype.TLSA) is None


def test_long_txt_values_are_split_into_255_byte_strings(keys):
    zone = _zone(_records(keys))
    rdata = zone.find_rdataset("s202611._domainkey.gialai.gov.vn.", dns.rdatatype.TXT)[0]
    assert len(rdata.strings) > 1 and all(len(s) <= 255 for s in rdata.strings)
    assert txt("short") == '"short"'


@pytest.mark.control("EDGE-10")
def test_tlsa_only_for_a_dnssec_signed_zone(keys):
    cert_key = keys["rsa"]
    zone = _zone(_records(keys, dnssec=True, tlsa_spki=cert_key))
    tlsa = zone.find_rdataset("_25._tcp.mail.gialai.gov.vn.", dns.rdatatype.TLSA)[0]
    assert (tlsa.usage, tlsa.selector, tlsa.mtype) == (3, 1, 1)
    assert tlsa.cert == hashlib.sha256(base64.b64decode(cert_key)).digest()
    with pytest.raises(AnsibleFilterError, match="tlsa_spki"):
        _records(keys, dnssec=True)


def test_a_domain_served_by_a_host_of_another_zone_gets_no_address_records(keys):
    text = mail_dns_records("soyte.gialai.gov.vn", mx="mail.gialai.gov.vn", dmarc_rua="mailto:d@gialai.gov.vn",
                            tlsrpt_rua="mailto:t@gialai.gov.vn", mta_sts_id="1", ipv4="203.0.113.25",
                            dnssec=True)
    zone = dns.zone.from_text("@ 3600 IN SOA ns. h. 1 1 1 1 1\n@ 3600 IN NS ns.\n" + text,
                              origin="soyte.gialai.gov.vn.", relativize=False)
    assert zone.get_node("mail.gialai.gov.vn.") is None
    assert "another zone" in text


@pytest.mark.control("EDGE-08")
def test_mta_sts_is_advised_in_enforce_mode_only_with_a_public_certificate(keys):
    internal = _records(keys)  # the default: the internal CA
    assert "'mode: testing'" in internal and "WARNING: MTA-STS in 'testing' mode" in internal
    assert "'mode: enforce'" not in internal
    supplied = _records(keys, mta_sts_mode="enforce")
    assert "'mode: enforce'" in supplied and "WARNING" not in supplied
    _zone(internal)  # the warning is a comment: the text still parses as a zone


@pytest.mark.parametrize("kw,message", [
    ({"mta_sts_mode": "strict"}, "mta_sts_mode"),
    ({"dmarc_rua": "dmarc@gialai.gov.vn"}, "mailto"),
    ({"dmarc_policy": "block"}, "dmarc_policy"),
    ({"mx": "mail..gialai.gov.vn"}, "MX host"),
    ({"mta_sts_id": "2026-11-28"}, "mta_sts_id"),
    ({"dkim": [{"selector": "s_2026", "algorithm": "rsa", "public_key": "AAAA"}]}, "selector"),
    ({"dkim": [{"selector": "s1", "algorithm": "dsa", "public_key": "AAAA"}]}, "unknown DKIM algorithm"),
    ({"dkim": [{"selector": "s1", "algorithm": "rsa", "public_key": "not base64!"}]}, "base64"),
])
def test_bad_input_names_the_problem(keys, kw, message):
    with pytest.raises(AnsibleFilterError, match=message):
        _records(keys, **kw)


def test_ed25519_needs_an_ed25519_key(keys):
    with pytest.raises(AnsibleFilterError, match="Ed25519"):
        dkim_txt("ed25519", keys["rsa"])
