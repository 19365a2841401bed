"""gialai.mail.checks (plugins/action/checks.py): a role's input checks in one task.

Each case is a task of one real ansible-playbook run on the controller (no host),
read back through the json callback: what passes, which check fails first and with
which message, what is never evaluated after a failure, and the errors that name a
malformed check.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]

PLAY = [{
    "hosts": "localhost",
    "gather_facts": False,
    "vars": {
        "domains": ["a.vn", "b.vn"],
        "aliases": [{"address": "x@a.vn", "to": ["y@a.vn"]}, {"address": "z@a.vn", "to": []}],
        "secret": "s3cr3t-value",
    },
    "tasks": [
        {"name": "passes", "gialai.mail.checks": {"checks": [
            {"name": "two conditions", "that": ["domains | length == 2", "'a.vn' in domains"],
             "msg": "never templated: {{ no_such_variable.attr }}"},
            {"name": "skipped", "when": "domains | length > 5", "that": "no_such_variable.attr",
             "msg": "skipped"},
            {"name": "loop passes", "that": "item is match('^[a-z.]+$')", "msg": "bad {{ item }}",
             "loop": "{{ domains }}"},
        ]}},
        {"name": "fails in a loop", "ignore_errors": True, "gialai.mail.checks": {"checks": [
            {"name": "first passes", "that": "__n | int == 2", "msg": "n is {{ __n }}",
             "vars": {"__n": "{{ domains | length }}"}},
            {"name": "aliases have targets", "that": ["item.to is not string", "item.to | length > 0"],
             "msg": "alias {{ item.address }} has no targets ({{ __n }} domains)",
             "loop": "{{ aliases }}", "vars": {"__n": "{{ domains | length }}"}},
            {"name": "never reached", "that": "no_such_variable.attr", "msg": "reached"},
        ]}},
        {"name": "loop_var and a per-check variable", "ignore_errors": True, "gialai.mail.checks": {"checks": [
            {"name": "by index", "that": "__entry.to | length > 0",
             "msg": "entry {{ __i }} ({{ __entry.address }}) has no targets",
             "loop": "{{ range(aliases | length) | list }}", "loop_var": "__i",
             "vars": {"__entry": "{{ aliases[__i] }}"}},
        ]}},
        {"name": "a secret is not in the result", "ignore_errors": True, "gialai.mail.checks": {"checks": [
            {"name": "secret length", "that": "secret | length > 100", "msg": "the secret is too short"},
        ]}},
        {"name": "check without msg", "ignore_errors": True, "gialai.mail.checks": {"checks": [
            {"name": "no message", "that": True},
        ]}},
        {"name": "unknown key", "ignore_errors": True, "gialai.mail.checks": {"checks": [
            {"name": "typo", "that": True, "msg": "x", "fail_msg": "y"},
        ]}},
    ],
}]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    play = tmp_path_factory.mktemp("checks") / "play.yml"
    play.write_text(yaml.safe_dump(PLAY))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_STRATEGY", None)
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(play)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in tasks}


def test_all_checks_pass_and_no_message_is_templated(results):
    r = results["passes"]
    assert not r.get("failed") and r["changed"] is False
    assert r["msg"] == "3 checks passed (4 conditions)"  # 2 + none for the skipped one + 2 loop items


def test_the_first_failed_check_stops_with_its_own_message_and_item(results):
    r = results["fails in a loop"]
    assert r["failed"] is True
    assert r["msg"] == "alias z@a.vn has no targets (2 domains)"
    assert r["check"] == "aliases have targets" and r["assertion"] == "item.to | length > 0"
    assert r["item"] == {"address": "z@a.vn", "to": []}


def test_a_loop_var_names_the_element_and_only_it_is_returned(results):
    r = results["loop_var and a per-check variable"]
    assert r["failed"] is True and r["msg"] == "entry 1 (z@a.vn) has no targets"
    assert r["__i"] == 1 and "item" not in r and "__entry" not in r


def test_a_failed_result_holds_no_evaluated_variable(results):
    r = results["a secret is not in the result"]
    assert r["failed"] is True and r["msg"] == "the secret is too short"
    assert "s3cr3t-value" not in json.dumps(r)


def test_a_malformed_check_is_named(results):
    assert results["check without msg"]["failed"] is True
    assert "check 1 must be a mapping with 'that' and 'msg'" in results["check without msg"]["msg"]
    r = results["unknown key"]
    assert r["failed"] is True and "check 1 (typo): unknown key(s) ['fail_msg']" in r["msg"]
