"""The drill's verdict (scripts/drill.py tally and fault_rows): what counts as lost, duplicated,
wrongly refused or accepted, and when an expected alert counts as fired and resolved; and its
disk fault, which fills only a mail file system of its own and always frees it."""

from __future__ import annotations

import importlib.util
import pathlib
import types

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("drill", ROOT / "scripts" / "drill.py")
drill = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drill)


def offered(*eicar: int, count: int = 6) -> dict[int, dict]:
    return {n: {"eicar": n in eicar} for n in range(count)}


def test_every_message_delivered_once_passes():
    accepted = {0: 10.0, 1: 11.0, 2: 12.0}
    seen = {0: {("a", b"1")}, 1: {("b", b"7")}, 2: {("a", b"2")}}
    saved = {0: [10.5], 1: [13.0], 2: [12.2]}
    t = drill.tally(offered(3, count=4), accepted, {3: "554 5.7.1 virus"}, seen, saved)
    assert not t["failed"]
    assert (t["delivered"], t["lost"], t["duplicated"]) == (3, [], [])
    assert [round(x, 1) for x in t["latencies"]] == [0.2, 0.5, 2.0]


def test_a_uid_read_twice_is_one_message_but_two_uids_are_a_duplicate():
    # a reader's session lost before its EXPUNGE reads the same UID again: a set holds it once
    same = drill.tally(offered(count=1), {0: 1.0}, {}, {0: {("a", b"5")}}, {0: [1.1]})
    assert not same["failed"]
    twice = drill.tally(offered(count=1), {0: 1.0}, {}, {0: {("a", b"5"), ("a", b"6")}}, {0: [1.1, 1.2]})
    assert twice["failed"] and twice["duplicated"] == [0] and twice["log_duplicated"] == [0]


def test_accepted_but_never_found_is_lost():
    t = drill.tally(offered(count=2), {0: 1.0, 1: 2.0}, {}, {0: {("a", b"1")}, 1: set()}, {0: [1.5]})
    assert t["failed"] and t["lost"] == [1]


def test_wrong_verdicts_of_the_scanner_fail():
    eicar_in = drill.tally(offered(0, count=1), {0: 1.0}, {}, {0: {("a", b"1")}}, {0: [1.2]})
    assert eicar_in["failed"] and eicar_in["eicar_accepted"] == [0]
    clean_out = drill.tally(offered(count=1), {}, {0: "554 5.7.1 refused"}, {}, {})
    assert clean_out["failed"] and clean_out["clean_refused"] == [0]


def test_a_message_never_answered_or_found_without_acceptance_fails():
    never = drill.tally(offered(count=1), {}, {}, {}, {})
    assert never["failed"] and never["never"] == [0]
    stray = drill.tally(offered(count=1), {}, {0: "550 no"}, {0: {("a", b"1")}}, {})
    assert stray["failed"] and stray["unexpected"] == [0]


def test_an_expected_alert_must_fire_after_the_fault_and_resolve():
    faults = [{"fault": "clamd", "start": 100.0, "end": 160.0, "alert": ["MailServiceDown", "clamav-daemon.service"]},
              {"fault": "dovecot", "start": 200.0, "end": 201.0, "alert": None}]
    good = {("MailServiceDown", "clamav-daemon.service"): {"fired": 120.0, "resolved": 170.0}}
    rows, ok = drill.fault_rows(faults, good, 0.0)
    assert ok and rows[0]["alert_fired_after"] == 20.0 and rows[0]["alert_resolved_after"] == 70.0
    never_resolved = {("MailServiceDown", "clamav-daemon.service"): {"fired": 120.0, "resolved": None}}
    assert not drill.fault_rows(faults, never_resolved, 0.0)[1]
    # already firing when the fault began (an earlier fault's) and resolved after it: counted
    before = {("MailServiceDown", "clamav-daemon.service"): {"fired": 90.0, "resolved": 170.0}}
    rows, ok = drill.fault_rows(faults, before, 0.0)
    assert ok and rows[0]["alert_fired_after"] == -10.0
    # resolved before the fault began, or fired long after it ended: not the fault's alert
    over = {("MailServiceDown", "clamav-daemon.service"): {"fired": 80.0, "resolved": 95.0}}
    assert not drill.fault_rows(faults, over, 0.0)[1]
    late = {("MailServiceDown", "clamav-daemon.service"): {"fired": 160.0 + drill.GRACE + 1, "resolved": 999.0}}
    assert not drill.fault_rows(faults, late, 0.0)[1]
    assert not drill.fault_rows(faults, {}, 0.0)[1]
    # a fault whose action failed fails the drill
    assert not drill.fault_rows([{**faults[1], "error": "site.yml failed"}], {}, 0.0)[1]


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert drill.percentile(values, 0.50) == 50.0 and drill.percentile(values, 0.95) == 95.0
    assert drill.percentile([3.0], 0.95) == 3.0 and drill.percentile([], 0.5) is None


def test_a_submission_held_by_the_login_limit_is_reported_not_failed():
    limit = {0: "450 4.7.1 <a@b>: Recipient address rejected: rate limit for a@b: 100 messages"}
    t = drill.tally(offered(count=1), {}, {}, {}, {}, limit)
    assert not t["failed"] and t["limited"] == [0] and t["never"] == []
    # held once, accepted later: accepted, not held
    later = drill.tally(offered(count=1), {0: 5.0}, {}, {0: {("a", b"1")}}, {0: [5.1]}, limit)
    assert not later["failed"] and later["limited"] == []


class _Host:
    """The drill's view of a host for its disk fault: canned answers to its shell commands."""

    def __init__(self, fstype: str, target: str, alert_fires: bool):
        self.args = types.SimpleNamespace(disk_fill=90, disk_hold=3)
        self.alerts = {("MailDiskFull", ""): {"fired": 0.0, "resolved": None}} if alert_fires else {}
        self.answers = {"findmnt -n -o TARGET,FSTYPE": f"{target} {fstype}\n",
                        "python3 -c": f"{1536 * 2**20} {2 * 2**30}\n"}
        self.commands: list[str] = []

    def sh(self, command: str, check: bool = True) -> str:
        self.commands.append(command)
        return next((a for prefix, a in self.answers.items() if command.startswith(prefix)), "")


def test_the_disk_fault_never_fills_a_mail_directory_on_the_machines_file_system():
    # /var/vmail on the container's overlay (a lab made before it had a file system of its own)
    host = _Host("overlay", "/", alert_fires=True)
    with pytest.raises(RuntimeError, match="not a file system of its own"):
        drill.Drill.fill_disk(host)
    assert not any("fallocate" in c for c in host.commands), host.commands


def test_the_disk_fault_fills_its_own_file_system_to_the_threshold_and_frees_it():
    host = _Host("ext4", "/var/vmail", alert_fires=True)
    detail = drill.Drill.fill_disk(host)
    fill = [c for c in host.commands if c.startswith("fallocate")]
    assert fill == [f"fallocate -l {1536 * 2**20} {drill.DISK_FILL_FILE}"], host.commands
    assert host.commands[-1] == f"rm -f {drill.DISK_FILL_FILE}"
    assert "filled to 90 %" in detail and "freed" in detail, detail
