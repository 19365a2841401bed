"""Another machine on the lab network: a throw-away client container, and SSH.

The controller is the containers' gateway and an administrator (never banned,
allowed to SSH). An attacker must therefore be somewhere else: a client
container on the same podman network, started for one script and removed.
Podman gives such a client the next free address (from .2 up): not an
administrator. A client started at `workstation_address(network)` (.254) is an
administrator's workstation: inside mail_admin_networks (it reaches SSH) but not
a bastion (fail2ban bans it like anyone else).
"""

from __future__ import annotations

import ipaddress
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


# Each client script's probe of a port from outside: open, refused (a reset or an ICMP
# refusal: fail2ban's nftables ban rejects) or filtered (no answer in 3 s).
PORT_STATE = """def state(port):
    s = socket.socket(); s.settimeout(3)
    try:
        s.connect((address, port)); return "open"
    except socket.timeout:
        return "filtered"
    except OSError:
        return "refused"
    finally:
        s.close()
"""


def container_network(name: str) -> str:
    data = json.loads(podman("inspect", name).stdout)[0]
    return next(iter(data["NetworkSettings"]["Networks"]))


def workstation_address(network: str) -> str:
    """The lab's administrator workstation on `network`: .254 of its subnet (inventories/lab lab.yml)."""
    subnet = json.loads(podman("network", "inspect", network).stdout)[0]["subnets"][0]["subnet"]
    return str(ipaddress.ip_network(subnet).network_address + 254)


def run_client(network: str, script: str, timeout: int = 180, ip: str | None = None,
               volumes: tuple[str, ...] = ()) -> dict:
    """Run a Python script in a fresh client container on `network`; it prints one JSON object.

    `ip`: a fixed address on the network (else podman's next free one); `volumes`: podman -v specs.
    """
    prefix = os.environ.get("MAIL_MOLECULE_PREFIX", "aio")
    name = f"{prefix}-client-{uuid.uuid4().hex[:8]}"
    options = [arg for spec in volumes for arg in ("-v", spec)] + (["--ip", ip] if ip else [])
    result = podman("run", "--rm", "--name", name, "--network", network, *options, CLIENT_IMAGE,
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
        options: tuple[str, ...] = (), timeout: int = 90) -> subprocess.CompletedProcess:
    """ssh from the controller. The timeout outlasts the server's longest wait for an
    unauthenticated client (LoginGraceTime, 30 s: roles/ssh) with room for a loaded machine:
    at 30 s it tied with it, and a key exchange at load 20 once lost (issue #17)."""
    cmd = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", *options]
    if key:
        cmd += ["-i", key, "-o", "IdentitiesOnly=yes"]
    cmd += [f"{user}@{address}", *command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
