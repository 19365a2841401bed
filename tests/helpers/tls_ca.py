"""Certificates a holder of the lab CA's key can mint, for the tests that serve a short-lived one.

The tls role keeps the internal CA next to the inventory (tls_internal_ca_dir: `{{ inventory_dir }}/tls-ca`):
under Molecule that is the scenario's ephemeral inventory directory.
"""

from __future__ import annotations

import os
import pathlib
import secrets
import subprocess

import yaml

from .lab import LAB_VARS


def ca_dir() -> pathlib.Path:
    return pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent / "tls-ca"


def openssl(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def sign_with_lab_ca(tmp_path: pathlib.Path, csr: pathlib.Path, names: list[str], days: int) -> pathlib.Path:
    """A server certificate for `names`, signed with the lab CA key (what a holder of the key can mint).

    Its extensions are exactly those the tls role issues (community.crypto's CSR, SKI, AKI): a
    certificate that differed would be re-issued by any converge, whatever its expiry.
    """
    ca = ca_dir()
    passphrase = yaml.safe_load((LAB_VARS / "vault.yml").read_text())["vault_tls_internal_ca_passphrase"]
    ext = tmp_path / f"{csr.stem}.ext"
    ext.write_text("subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\nkeyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n")
    out = tmp_path / f"{csr.stem}.crt"
    signed = openssl("x509", "-req", "-in", csr, "-CA", ca / "ca.crt", "-CAkey", ca / "ca.key",
                     "-passin", "env:C12_CA_PASS", "-set_serial", secrets.randbits(64), "-days", days,
                     "-sha256", "-extfile", ext, "-out", out, env={"C12_CA_PASS": passphrase})
    assert signed.returncode == 0, signed.stderr
    return out


def short_lived_certificate(host, tls_dir: str, hostname: str, tmp_path: pathlib.Path, days: int) -> str:
    """PEM of a certificate for the host's own key (`tls_dir`/privkey.pem) and `hostname`, signed by the lab
    CA, that expires in `days` days: what a host shows when its renewal was missed."""
    csr = host.run(f"openssl req -new -key {tls_dir}/privkey.pem -subj /CN={hostname}")
    assert csr.rc == 0, csr.stderr
    (tmp_path / "short.csr").write_text(csr.stdout)
    return sign_with_lab_ca(tmp_path, tmp_path / "short.csr", [hostname], days).read_text()
