"""tests/helpers/podman_host.py: the kept-open `podman exec` behind the scenarios' testinfra hosts.

A stand-in `podman` on PATH runs `podman exec [-i] NAME CMD...` as CMD... on this
machine, so the backend's protocol is checked without a container: the same exit
status, output and stdin as testinfra's one-exec-per-command backend gives.
"""

from __future__ import annotations

import os
import pathlib
import stat

import pytest

from tests.helpers import podman_host as ph


@pytest.fixture
def fake_podman(tmp_path, monkeypatch):
    log = tmp_path / "calls"
    script = tmp_path / "podman"
    script.write_text(f"""#!/bin/sh
echo "$1 $2 $3" >> {log}
[ "$1" = exec ] || exit 125
shift
[ "$1" = -i ] && shift
shift  # the container name
exec "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    ph._hosts.clear()
    yield log
    for host in ph._hosts.values():
        host.backend.close()
    ph._hosts.clear()


def _execs(log: pathlib.Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_commands_run_through_one_exec_with_status_output_and_no_stdin(fake_podman):
    host = ph.podman_host("c1")
    result = host.run("printf 'a\\0b'; echo oops >&2; exit 3")
    assert (result.rc, result.stdout_bytes, result.stderr) == (3, b"a\0b", "oops\n")
    assert host.run("cat").stdout == ""  # stdin is /dev/null, as with podman exec without -i
    assert host.run("kill -KILL $$").rc == 137  # a signal as a shell reports it
    assert host.file("/etc/passwd").exists and not host.file("/nonexistent").exists
    assert host.run("echo %s", "it's quoted").stdout == "it's quoted\n"
    assert _execs(fake_podman) == 1
    assert ph.podman_host("c1") is host


def test_a_runner_that_died_before_the_command_is_replaced(fake_podman):
    host = ph.podman_host("c2")
    assert host.run("true").rc == 0
    for runner in host.backend._all:
        runner.proc.kill()
        runner.proc.wait()
    assert host.run("echo again").stdout == "again\n"
    assert _execs(fake_podman) == 2


def test_a_runner_that_dies_during_a_command_fails_the_call_and_never_reruns_it(fake_podman, tmp_path):
    host = ph.podman_host("c3")
    marker = tmp_path / "ran"
    with pytest.raises(RuntimeError, match="ended while running"):
        # the command kills its own runner (the python3 parent of its shell)
        host.run(f"echo x >> {marker}; kill -KILL $PPID; sleep 5")
    assert marker.read_text() == "x\n"
    assert host.run("echo next").stdout == "next\n"
    assert marker.read_text() == "x\n"


def test_concurrent_callers_get_runners_of_their_own(fake_podman):
    from concurrent.futures import ThreadPoolExecutor

    host = ph.podman_host("c4")
    with ThreadPoolExecutor(3) as pool:
        outs = list(pool.map(lambda i: host.run(f"sleep 0.3; echo {i}").stdout, range(3)))
    assert outs == ["0\n", "1\n", "2\n"]
    assert 1 < _execs(fake_podman) <= 3
