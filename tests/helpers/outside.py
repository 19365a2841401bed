"""Another machine on the lab network: a throw-away client container, and SSH.

The controller is the containers' gateway and an administrator (never banned,
allowed to SSH). An attacker must therefore be somewhere else: a client
container on the same podman network, started for one script and removed.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import uuid

from .lab import ROOT, podman

CLIENT_IMAGE = os.environ.get("MAIL_IMAGE_DEBIAN13", "localhost/debian13-systemd:latest")
LAB_ADMIN = "mailadmin"
LAB_ADMIN_KEY = ROOT / "inventories" / "lab" / "files" / "ssh" / "lab-admin_ed25519"


def container_network(name: str) -> str:
    data = json.loads(podman("inspect", name).stdout)[0]
    return next(iter(data["NetworkSettings"]["Networks"]))


def run_client(network: str, script: str, timeout: int = 180, ip: str | None = None) -> dict:
    """Run a Python script in a fresh client container on `network`; it prints one JSON object.

    `ip` pins the client's address (another device behind the same NAT gets the same one).
    """
    prefix = os.environ.get("MAIL_MOLECULE_PREFIX", "aio")
    name = f"{prefix}-client-{uuid.uuid4().hex[:8]}"
    pin = ["--ip", ip] if ip else []
    result = podman("run", "--rm", "--name", name, "--network", network, *pin, CLIENT_IMAGE,
                    "timeout", str(timeout), "python3", "-c", script, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def admin_key() -> str:
    """The LAB ONLY private key, copied to a 0600 file (git does not keep modes)."""
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="lab-ssh-"))
    key = tmp / "id_ed25519"
    shutil.copyfile(LAB_ADMIN_KEY, key)
    key.chmod(0o600)
    return str(key)


def ssh(address: str, *command: str, user: str = LAB_ADMIN, key: str | None = None,
        options: tuple[str, ...] = (), timeout: int = 30) -> subprocess.CompletedProcess:
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", *options]
    if key:
        cmd += ["-i", key, "-o", "IdentitiesOnly=yes"]
    cmd += [f"{user}@{address}", *command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
