"""tests/helpers/exclusive.py: the readers-writer lock that lets a scenario's tests run on
two pytest-xdist workers, and the plugin that takes it around each test."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import pathlib
import sys
import textwrap
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.helpers.exclusive import Lock  # noqa: E402

pytest_plugins = ["pytester"]


def _holder(directory: str, mode: str, name: str, log: str, acquired, release) -> None:
    lock = Lock(pathlib.Path(directory))
    getattr(lock, mode)()
    with open(log, "a", encoding="utf-8") as out:
        out.write(name + "\n")
    acquired.set()
    release.wait(30)
    lock.release()


class Holders:
    """Processes that take the lock in the order a test starts them and keep it until released."""

    def __init__(self, tmp_path):
        self.dir, self.log = str(tmp_path / "locks"), str(tmp_path / "order.log")
        self.ctx = multiprocessing.get_context("fork")
        self.procs = {}

    def start(self, name: str, mode: str):
        acquired, release = self.ctx.Event(), self.ctx.Event()
        proc = self.ctx.Process(target=_holder, args=(self.dir, mode, name, self.log, acquired, release))
        proc.start()
        self.procs[name] = (proc, acquired, release)
        return acquired

    def release(self, name: str) -> None:
        proc, _acquired, release = self.procs[name]
        release.set()
        proc.join(30)
        assert proc.exitcode == 0

    def order(self) -> list[str]:
        return pathlib.Path(self.log).read_text().split()

    def gate_held(self) -> bool:
        """Whether an exclusive holder is waiting (it keeps the turnstile while it waits)."""
        fd = os.open(pathlib.Path(self.dir) / "verify.gate", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


def _wait(condition, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_shared_holders_hold_it_at_the_same_time(tmp_path):
    holders = Holders(tmp_path)
    assert holders.start("one", "shared").wait(20)
    assert holders.start("two", "shared").wait(20)  # while "one" still holds it
    holders.release("one")
    holders.release("two")


def test_an_exclusive_holder_waits_for_the_shared_ones_and_goes_before_later_ones(tmp_path):
    holders = Holders(tmp_path)
    assert holders.start("reader", "shared").wait(20)
    writer = holders.start("writer", "exclusive")
    assert _wait(holders.gate_held), "the exclusive holder never queued"
    late = holders.start("late-reader", "shared")
    assert not writer.wait(0.5) and not late.wait(0.1), holders.order()  # both wait for "reader"
    holders.release("reader")
    assert writer.wait(20)
    assert not late.wait(0.5), "a shared holder got in beside the exclusive one"
    holders.release("writer")
    assert late.wait(20)
    holders.release("late-reader")
    assert holders.order() == ["reader", "writer", "late-reader"]


def _overlap(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


SUITE = textwrap.dedent("""
    import json, os, time
    import pytest
    from tests.helpers import exclusive

    def pytest_configure(config):
        exclusive.configure(config)
""")

TESTS = textwrap.dedent("""
    import json, os, time
    import pytest

    def _record(name):
        t0 = time.monotonic(); time.sleep(0.4); t1 = time.monotonic()
        with open(os.environ["RUNLOG"], "a") as out:
            out.write(json.dumps({"name": name, "start": t0, "end": t1}) + "\\n")
""")


def test_exclusive_tests_and_modules_run_alone_under_xdist(pytester, tmp_path, monkeypatch):
    monkeypatch.setenv("MOLECULE_EPHEMERAL_DIRECTORY", str(tmp_path / "ephemeral"))
    monkeypatch.setenv("RUNLOG", str(tmp_path / "run.jsonl"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest(SUITE)
    pytester.makepyfile(
        test_a=TESTS + "".join(f"\ndef test_a{n}():\n    _record('a{n}')\n" for n in range(4))
        + "\n@pytest.mark.exclusive\ndef test_a_alone():\n    _record('a_alone')\n",
        test_b=TESTS + "\npytestmark = pytest.mark.exclusive\n"
        + "".join(f"\ndef test_b{n}():\n    _record('b{n}')\n" for n in range(2)),
        test_c=TESTS + "".join(f"\ndef test_c{n}():\n    _record('c{n}')\n" for n in range(4)),
    )
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadfile", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=11)
    rows = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    alone = [r for r in rows if r["name"] == "a_alone"]
    module_b = [r for r in rows if r["name"].startswith("b")]
    b_span = {"start": min(r["start"] for r in module_b), "end": max(r["end"] for r in module_b)}
    assert not any(_overlap(alone[0], r) for r in rows if r is not alone[0]), rows
    assert not any(_overlap(b_span, r) for r in rows if r not in module_b), rows  # the whole module alone
