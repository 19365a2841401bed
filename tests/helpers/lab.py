"""The lab's data and containers, as tests and the lab smoke test see them."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from .labdata import LAB_VARS, lab_mail  # noqa: F401  (LAB_VARS: for the tests that import it from here)
from .mailclient import Target
from .podman_host import podman_env  # noqa: F401  (for the tests that import it from here)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, env=podman_env())


def container_address(name: str) -> str:
    """The container's address on its (first) podman network."""
    data = json.loads(podman("inspect", name).stdout)[0]
    nets = data["NetworkSettings"].get("Networks") or {}
    for net in nets.values():
        if net.get("IPAddress"):
            return net["IPAddress"]
    return data["NetworkSettings"]["IPAddress"]


def container_file(name: str, path: str) -> str:
    """Copy a file out of a container into a local temporary file; returns its path."""
    fd, local = tempfile.mkstemp(prefix=f"{name}-", suffix=pathlib.Path(path).suffix)
    os.close(fd)
    podman("cp", f"{name}:{path}", local)
    return local


@dataclass
class LabData:
    """The lab inventory's mail data (domains, accounts, aliases, passwords)."""

    domains: list[str]
    hostname: str
    accounts: list[str]
    aliases: list[dict]
    passwords: dict[str, str] = field(repr=False)
    alert_account: str = ""  # mail_alert_account: the monitor's login on submission

    def password(self, address: str) -> str:
        return self.passwords[address]


def load_lab_data() -> LabData:
    mail = lab_mail()  # the lab's directory, rendered as playbooks/group_vars/all/mail.yml renders it
    return LabData(
        domains=mail["domains"],
        hostname=mail["hostname"],
        accounts=[a["address"] for a in mail["accounts"]],
        aliases=mail["aliases"],
        passwords=mail["passwords"],
        alert_account=mail["data"].get("mail_alert_account", ""),
    )


# The lab's TLS directory: the TLS role's tls_dir as playbooks/group_vars/all/mail.yml binds it.
TLS_DIR = "/etc/ssl/mail"


def target_for(container: str, hostname: str) -> Target:
    return Target(address=container_address(container), hostname=hostname,
                  cafile=container_file(container, f"{TLS_DIR}/ca.pem"))


def run_site(name: str | None, extra: dict, tags: str, playbook: str = "playbooks/site.yml",
             args: list[str] | None = None, inventory: str | None = None) -> subprocess.CompletedProcess:
    """Run a playbook of this checkout against the converged Molecule instances (or `inventory`).

    As an operator applying a change would: limited to host `name` (all hosts
    when None) and to `tags` (the input checks, tagged always, run too), with
    `extra` as extra vars.
    """
    inventory = inventory or str(pathlib.Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               MAIL_IAC_ROOT=str(ROOT))
    limit = ["--limit", name] if name else []
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory), str(ROOT / playbook),
         *limit, "--tags", tags, "-e", json.dumps(extra), *(args or [])],
        capture_output=True, text=True, env=env, timeout=1200, cwd=ROOT,
    )


def changed_counts(stdout: str) -> dict[str, int]:
    """{host: changed} from an ansible-playbook PLAY RECAP (colour codes ignored)."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", stdout)
    return {host: int(changed) for host, changed in re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", plain, re.M)}


def wait_listening(host, port: int, seconds: int = 60) -> None:
    """Wait (bounded) until something listens on TCP `port` in the testinfra `host`.

    A unit that systemctl has started is not yet listening: on a loaded machine
    a Python daemon takes seconds to bind. Fails naming the port when time runs out.
    """
    wait_until(host, f"ss -Htln 'sport = :{port}' | grep -q .", seconds, f"nothing listened on port {port}")


def wait_for_path(host, path: str, seconds: int = 60) -> None:
    """Wait (bounded) until the UNIX socket `path` exists in the testinfra `host`
    (a milter started by systemctl binds it a moment later). Fails naming it."""
    wait_until(host, f"test -S {shlex.quote(path)}", seconds, f"no socket {path}")


def wait_until(host, condition: str, seconds: int = 30, what: str | None = None) -> None:
    """Wait (bounded) until the shell `condition` succeeds in the testinfra `host`.

    Polled twice a second, so it returns as soon as the server has done what the
    test waits for (a log line written, a reload taken effect); a fixed sleep
    would race a loaded machine and waste time on a quiet one. Fails naming
    `what` (or the condition) when time runs out.
    """
    script = f"until {condition}; do sleep 0.5; done"
    waited = host.run(f"timeout {int(seconds)} sh -c {shlex.quote(script)} >/dev/null 2>&1")
    assert waited.rc == 0, f"{what or condition}: not so within {seconds} s"


FETCH = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())"


def fetch(host, url: str) -> str:
    """GET url from inside the testinfra `host` (its own loopback, or what its firewall lets it reach)."""
    result = host.run(f"python3 -c {shlex.quote(FETCH)} {shlex.quote(url)}")
    assert result.rc == 0, f"{url}: {result.stderr}"
    return result.stdout


# Postfix's path to Dovecot's LMTP on an all-in-one host (the dovecot role's unix_listener).
LMTP_SOCKET = "/var/spool/postfix/private/dovecot-lmtp"


def postfix_queue(host) -> list[dict]:
    """Postfix's queue as postqueue -j gives it, one message per entry."""
    run = host.run("postqueue -j")
    assert run.rc == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def poll(what, probe, timeout: float, step: float = 2.0):
    """probe() until it returns something true, at most `timeout` seconds; then fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {timeout:.0f} s")
        time.sleep(step)


def journal_mark(host) -> str:
    """Where the host's journal is now: journal_after() reads only what is logged from here on.

    The host's own clock, one second back (journalctl --since takes whole seconds). Not
    a journal cursor: on Debian 12 (systemd 252) `--after-cursor` of the last entry
    missed the first lines logged after it (the milter's verdict, systemd's "Main
    process exited").
    """
    now = host.run("date +%s").stdout.strip()
    assert now.isdigit(), f"no time from the host: {now!r}"
    return f"@{int(now) - 1}"


def journal_lines(host, since: str, fixed: str, word: str, unit: str = "dovecot.service",
                  seconds: int = 60) -> list[str]:
    """The journal's lines since `since` (of `unit`) that hold `fixed` (a Message-ID, a session),
    read again (bounded) until one of them also holds `word`. The caller asserts on them."""
    read = (f"journalctl -q --no-pager -o cat -u {shlex.quote(unit)} --since={shlex.quote(since)} "
            f"| grep -F -- {shlex.quote(fixed)}")
    wait = f"until {read} | grep -qF -- {shlex.quote(word)}; do sleep 0.5; done"
    host.run(f"timeout {seconds} sh -c {shlex.quote(wait)}")
    return host.run(read).stdout.splitlines()


def journal_after(host, since: str, *needles: str, unit: str | None = None, seconds: int = 30) -> str:
    """The journal since `since` (of `unit` if given), read again (bounded) until it holds every needle.

    A daemon writes its line a moment after the client saw its answer, and journald
    stores it later still on a loaded machine: reading the journal once at once
    races it. Returns what was read last; the caller asserts on it.
    """
    unit_arg = f"-u {shlex.quote(unit)} " if unit else ""
    cmd = f"journalctl -q --no-pager -o cat {unit_arg}--since={shlex.quote(since)}"
    deadline = time.monotonic() + seconds
    while True:
        log = host.run(cmd).stdout
        if all(n in log for n in needles) or time.monotonic() > deadline:
            return log
        time.sleep(0.5)
