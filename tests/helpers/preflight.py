"""What every refused preflight case asserts: the run failed before any host was reached."""

from __future__ import annotations

import subprocess

DEPLOY = ("PLAY [Deploy the mail hosts]",)


def stopped_before_any_host(result: subprocess.CompletedProcess, plays: tuple[str, ...] = DEPLOY) -> str:
    """The run's output, after asserting it failed, reached no host and started none of `plays`."""
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert "UNREACHABLE" not in out, "the input checks let bad input reach a host:\n" + out[-3000:]
    assert not any(play in out for play in plays), out[-3000:]
    return out
