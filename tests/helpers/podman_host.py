"""testinfra hosts for lab containers that run every command through a kept-open `podman exec`.

testinfra's own podman backend starts one `podman exec` per command: podman, conmon
and runc each time, ~0.15 CPU-seconds and ~0.16 s here on a quiet machine, and
much longer when the scenarios run side by side and every podman call queues on
podman's locks. A verify step runs hundreds of commands per host.

Here each host keeps `podman exec -i <container> python3` processes open (one per
concurrent caller, normally one) that run each command with `/bin/sh -c`, as
testinfra's backend does, with stdin from /dev/null and the container's
environment, and send back the exit status, stdout and stderr. A command is sent
once: if the kept-open process has died before a command is sent, a new one is
started; if it dies while a command runs, the call fails (it is never run twice).

`podman_host(name)` is a drop-in for `testinfra.get_host(f"podman://{name}")`.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import pathlib
import subprocess
import threading
from typing import Any

import testinfra.host
from testinfra.backend import base

ROOT = pathlib.Path(__file__).resolve().parents[2]


def podman_env() -> dict:
    """The environment podman runs in here: this sandbox's containers.conf (lab/containers.conf:
    runc, ulimits) unless CONTAINERS_CONF names another."""
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    return env


# The command runner inside the container: one JSON request per line in, one JSON
# answer per line out. Kept to the standard library of Debian's python3.
_SERVER = r"""
import base64, json, subprocess, sys
for line in sys.stdin:
    cmd = json.loads(line)["cmd"]
    p = subprocess.run(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL, capture_output=True)
    rc = p.returncode if p.returncode >= 0 else 128 - p.returncode  # as a shell reports a signal
    sys.stdout.write(json.dumps({"rc": rc, "out": base64.b64encode(p.stdout).decode(),
                                 "err": base64.b64encode(p.stderr).decode()}) + "\n")
    sys.stdout.flush()
"""


class _Runner:
    """One kept-open `podman exec -i` into the container."""

    def __init__(self, container: str):
        self.proc = subprocess.Popen(
            ["podman", "exec", "-i", container, "/usr/bin/python3", "-u", "-c", _SERVER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.alive():
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()


class KeptOpenPodmanBackend(base.BaseBackend):
    NAME = "podman"

    def __init__(self, name: str, *args: Any, **kwargs: Any):
        self.name, self.user = self.parse_containerspec(name)
        super().__init__(self.name, *args, **kwargs)
        self._idle: list[_Runner] = []
        self._all: list[_Runner] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def close(self) -> None:
        with self._lock:
            runners, self._idle, self._all = self._all, [], []
        for runner in runners:
            runner.close()

    def _take(self) -> _Runner:
        with self._lock:
            while self._idle:
                runner = self._idle.pop()
                if runner.alive():
                    return runner
            runner = _Runner(self.name)
            self._all.append(runner)
            return runner

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        cmd = self.get_command(command, *args)
        if self.user is not None:  # another user: testinfra's own way, one exec per command
            out = self.run_local("podman exec -u %s %s /bin/sh -c %s", self.user, self.name, cmd)
            out.command = self.encode(cmd)
            return out
        runner = self._take()
        try:
            runner.proc.stdin.write((json.dumps({"cmd": cmd}) + "\n").encode())
            runner.proc.stdin.flush()
        except OSError:
            # died before the command was sent (container restarted?): a new runner, sent once
            runner.close()
            runner = self._take()
            runner.proc.stdin.write((json.dumps({"cmd": cmd}) + "\n").encode())
            runner.proc.stdin.flush()
        line = runner.proc.stdout.readline()
        if not line:
            runner.close()
            raise RuntimeError(f"{self.name}: the kept-open podman exec ended while running {cmd!r}")
        with self._lock:
            self._idle.append(runner)
        answer = json.loads(line)
        return self.result(answer["rc"], self.encode(cmd), base64.b64decode(answer["out"]),
                           base64.b64decode(answer["err"]))


_hosts: dict[str, testinfra.host.Host] = {}
_hosts_lock = threading.Lock()


def podman_host(name: str) -> testinfra.host.Host:
    """The testinfra Host of container `name` (one per name for the whole run)."""
    with _hosts_lock:
        if name not in _hosts:
            backend = KeptOpenPodmanBackend(name)
            host = testinfra.host.Host(backend)
            backend.set_host(host)
            _hosts[name] = host
        return _hosts[name]
