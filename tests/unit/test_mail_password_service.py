"""mail-password (roles/dovecot), the store's password-change service, run here against a socket pair.

Dovecot's verdict on the current password is stubbed (the edge scenario asks the real one); the
rest is the program the role installs: the poppassd conversation Roundcube's driver speaks, the
policy's message (the preflight's own, byte for byte), the own password file and the queue of
sessions to end, and `prune` (resets, accounts that may no longer log in).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
import json
import pathlib
import socket
import sys
import threading

import pytest
from ansible.errors import AnsibleFilterError
from passlib.hash import bcrypt, sha512_crypt

from ansible_collections.gialai.mail.plugins.plugin_utils.passwords import mail_password_policy

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "roles/dovecot/files/usr/local/lib/mail-password/mail-password"
USER = "locnv@gialai.gov.vn"
OLD = "Loc-Nguyen#26x"


def _load():
    # on a store password_policy.py sits beside the program (the role copies it there)
    sys.path.insert(0, str(ROOT / "plugins" / "plugin_utils"))
    loader = importlib.machinery.SourceFileLoader("mail_password_program", str(PROGRAM))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


PROG = _load()


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    (tmp_path / "changed").mkdir()
    monkeypatch.setattr(PROG, "wait_for_dovecot_to_see", lambda written: None)
    monkeypatch.setattr(PROG, "log", lambda *a, **k: None)
    return {"policy": {"min_length": 8, "min_classes": 3, "weak": ["Gialai#2030x"]}, "scheme": "BLF-CRYPT",
            "own_file": str(tmp_path / "users"), "queue_dir": str(tmp_path / "changed"),
            "lock_file": str(tmp_path / ".lock"), "auth_socket": str(tmp_path / "auth")}


def converse(cfg, monkeypatch, lines: list[str], accepted: bool = True) -> list[str]:
    """Roundcube's side: read the banner, then send each line while the answers are 2xx/3xx."""
    monkeypatch.setattr(PROG, "dovecot_accepts", lambda path, user, password: accepted and password == OLD)
    ours, theirs = socket.socketpair()
    server = threading.Thread(target=PROG.serve, args=(cfg, theirs))
    server.start()
    stream = ours.makefile("rwb")
    said = [stream.readline().decode().strip()]
    for line in lines:
        if not said[-1].startswith(("2", "3")):
            break
        stream.write(line.encode() + b"\r\n")
        stream.flush()
        said.append(stream.readline().decode().strip())
    server.join(10)
    ours.close()
    theirs.close()
    return said


def preflight_message(password: str) -> str:
    with pytest.raises(AnsibleFilterError) as refused:
        mail_password_policy(password, 8, 3, ["Gialai#2030x"], name=USER)
    return str(refused.value)


@pytest.mark.control("WEB-15")
@pytest.mark.parametrize("weak", ["short1A", "locnv-2027-Mail", "gialai#2030X", "chi co chu thuong"])
def test_a_weak_password_is_refused_with_the_preflights_message(cfg, monkeypatch, weak):
    said = converse(cfg, monkeypatch, [f"user {USER}", f"pass {OLD}", f"newpass {weak}"])
    assert said[:3] == ["200 mail-password ready", "200 the current password, please", "200 the new password, please"]
    assert said[3] == f"500 {preflight_message(weak)}"
    assert not pathlib.Path(cfg["own_file"]).exists() and not list(pathlib.Path(cfg["queue_dir"]).iterdir())


@pytest.mark.control("WEB-15")
def test_a_wrong_current_password_is_refused_before_the_new_one(cfg, monkeypatch):
    said = converse(cfg, monkeypatch, [f"user {USER}", "pass wrong-Password#1", "newpass Ke-Hoach#2027zq"])
    assert said[-1] == "500 the current password is not correct" and len(said) == 3
    assert not pathlib.Path(cfg["own_file"]).exists()


@pytest.mark.control("WEB-16")
@pytest.mark.parametrize("scheme,handler", [("BLF-CRYPT", bcrypt), ("SHA512-CRYPT", sha512_crypt)])
def test_a_good_password_is_hashed_into_the_own_file_and_the_account_queued(cfg, monkeypatch, scheme, handler):
    cfg["scheme"] = scheme
    pathlib.Path(cfg["own_file"]).write_text("hoatt@gialai.gov.vn:{SHA512-CRYPT}$6$x$y\n")
    said = converse(cfg, monkeypatch, [f"user {USER.upper()}", f"pass {OLD}", "newpass Ke-Hoach#2027zq"])
    assert said[-1] == "200 password changed"
    lines = [ln for ln in pathlib.Path(cfg["own_file"]).read_text().splitlines() if not ln.startswith("#")]
    entries = dict(ln.split(":", 1) for ln in lines)
    assert set(entries) == {USER, "hoatt@gialai.gov.vn"}  # lower case; the other user's entry kept
    assert entries[USER].startswith("{" + scheme + "}")
    assert handler.verify("Ke-Hoach#2027zq", entries[USER].split("}", 1)[1])
    assert pathlib.Path(cfg["own_file"]).stat().st_mode & 0o777 == 0o640
    assert [p.name for p in pathlib.Path(cfg["queue_dir"]).iterdir()] == [USER]


def test_the_same_password_again_is_refused(cfg, monkeypatch):
    said = converse(cfg, monkeypatch, [f"user {USER}", f"pass {OLD}", f"newpass {OLD}"])
    assert said[-1] == "500 the new password is the current one"


@pytest.mark.control("WEB-17")
def test_prune_removes_resets_and_accounts_that_may_not_log_in_and_nothing_else(cfg, monkeypatch):
    own = pathlib.Path(cfg["own_file"])
    own.write_text("a@gialai.gov.vn:{X}1\nb@gialai.gov.vn:{X}2\nc@gialai.gov.vn:{X}3\n")

    def prune(request):
        monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(request)))
        out = io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        assert PROG.prune(cfg) == 0
        return json.loads(out.getvalue())["removed"]

    keep = ["a@gialai.gov.vn", "B@gialai.gov.vn", "c@gialai.gov.vn"]
    assert prune({"keep": keep, "reset": [], "check": False}) == []  # a re-run changes nothing
    assert prune({"keep": keep, "reset": ["b@gialai.gov.vn"], "check": True}) == ["b@gialai.gov.vn"]
    assert "b@gialai.gov.vn" in own.read_text()  # --check writes nothing
    assert prune({"keep": keep[:2], "reset": ["B@gialai.gov.vn"], "check": False}) == [
        "b@gialai.gov.vn", "c@gialai.gov.vn"]
    assert [ln.split(":")[0] for ln in own.read_text().splitlines() if not ln.startswith("#")] == ["a@gialai.gov.vn"]
    assert sorted(p.name for p in pathlib.Path(cfg["queue_dir"]).iterdir()) == ["b@gialai.gov.vn", "c@gialai.gov.vn"]


def test_the_role_installs_the_preflights_policy_beside_the_program():
    tasks = (ROOT / "roles/dovecot/tasks/password_change.yml").read_text()
    assert "{{ role_path }}/../../plugins/plugin_utils/password_policy.py" in tasks
    assert (ROOT / "roles/dovecot/../../plugins/plugin_utils/password_policy.py").resolve().is_file()


# ---------------------------------------------------------------- R7: the maximum password age
DAY = 86400
T0 = 1_780_000_000  # a fixed "now" of the first daily look
HOATT = "hoatt@gialai.gov.vn"


@pytest.fixture
def aging(cfg, tmp_path, monkeypatch):
    """cfg with a 90-day maximum, an inventory of three accounts (one locked) and sendmail captured."""
    userdb = tmp_path / "inventory-users"
    userdb.write_text(f"{USER}:{{SHA512-CRYPT}}$6$a$inv1::::::\n"
                      "hoatt@gialai.gov.vn:{SHA512-CRYPT}$6$b$inv2::::::\n"
                      "nghihuu@gialai.gov.vn:{SHA512-CRYPT}$6$LOCKED::::::\n")
    cfg.update({"ages_file": str(tmp_path / "ages.json"), "userdb_file": str(userdb),
                "locked_hash": "{SHA512-CRYPT}$6$LOCKED",
                "max_age": {"days": 90, "remind_days": 14, "from": "postmaster@gialai.gov.vn",
                            "webmail_url": "https://mail.gialai.gov.vn/"}})
    sent = []
    monkeypatch.setattr(PROG, "send_reminder", lambda cfg, message: sent.append(message))
    cfg["sent"] = sent
    return cfg


def look(cfg, day: float) -> list:
    """One daily look, `day` days after T0; the (address, stage) pairs reminded, as a set."""
    out, sys.stdout = sys.stdout, io.StringIO()
    try:
        assert PROG.age(cfg, now=T0 + day * DAY) == 0
        said = sys.stdout.getvalue()
    finally:
        sys.stdout = out
    return {tuple(pair) for pair in json.loads(said)["reminded"]}


@pytest.mark.control("WEB-19")
def test_a_password_gets_one_reminder_before_its_maximum_age_and_one_when_reached(aging):
    assert look(aging, 0) == set()                 # first seen: counts from now
    assert look(aging, 75.9) == set()              # 14.1 days left
    assert look(aging, 76) == {(USER, "soon"), (HOATT, "soon")}  # never the locked account
    assert look(aging, 77) == set() and look(aging, 89.9) == set()  # once per password
    assert look(aging, 90) == {(USER, "reached"), (HOATT, "reached")}
    assert look(aging, 120) == set()
    first = next(m for m in aging["sent"] if m["To"] == USER)
    assert first["To"] == USER and first["From"] == "postmaster@gialai.gov.vn"
    assert first["Auto-Submitted"] == "auto-generated"
    assert "Mật khẩu thư cần được đổi" in first["Subject"] and "Your mail password must be changed" in first["Subject"]
    body = first.get_content()
    assert "14 ngày" in body and "14 days left" in body and "https://mail.gialai.gov.vn/" in body
    ages = json.loads(pathlib.Path(aging["ages_file"]).read_text())
    assert set(ages) == {USER, "hoatt@gialai.gov.vn"}
    assert "inv1" not in pathlib.Path(aging["ages_file"]).read_text()  # a digest, never the hash


@pytest.mark.control("WEB-19")
def test_a_new_password_starts_the_age_again(aging, monkeypatch):
    look(aging, 0)
    assert look(aging, 80) == {(USER, "soon"), (HOATT, "soon")}
    # USER changes the password in webmail on day 85 (the serve path records the change) ...
    monkeypatch.setattr(PROG.time, "time", lambda: T0 + 85 * DAY)
    said = converse(aging, monkeypatch, [f"user {USER}", f"pass {OLD}", "newpass Ke-Hoach#2027zq"])
    assert said[-1] == "200 password changed"
    # ... so only the other account reaches its maximum on day 90; USER's counts from day 85
    assert look(aging, 90) == {(HOATT, "reached")}
    assert look(aging, 160.9) == set()
    assert look(aging, 161) == {(USER, "soon")}
    # the administrator changes hoatt's password in the inventory: seen on the next look, counted from it
    userdb = pathlib.Path(aging["userdb_file"])
    userdb.write_text(userdb.read_text().replace("$6$b$inv2", "$6$c$inv3"))
    assert look(aging, 162) == set()
    assert look(aging, 162 + 76) == {(HOATT, "soon"), (USER, "reached")}


@pytest.mark.control("WEB-19")
def test_an_account_no_longer_in_the_inventory_leaves_the_ages_and_off_sends_nothing(aging):
    look(aging, 0)
    userdb = pathlib.Path(aging["userdb_file"])
    userdb.write_text("".join(ln + "\n" for ln in userdb.read_text().splitlines() if not ln.startswith("hoatt")))
    assert look(aging, 80) == {(USER, "soon")}
    assert set(json.loads(pathlib.Path(aging["ages_file"]).read_text())) == {USER}
    aging["max_age"]["days"] = 0
    assert look(aging, 200) == set()


def test_a_reminder_that_could_not_be_sent_is_tried_again_the_next_day(aging, monkeypatch):
    look(aging, 0)

    def refuse(cfg, message):
        raise OSError("sendmail missing")

    monkeypatch.setattr(PROG, "send_reminder", refuse)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert PROG.age(aging, now=T0 + 80 * DAY) == 1  # the unit fails: visible to monitoring
    monkeypatch.setattr(PROG, "send_reminder", lambda cfg, message: aging["sent"].append(message))
    assert look(aging, 81) == {(USER, "soon"), (HOATT, "soon")}


@pytest.mark.control("WEB-19")
def test_a_reset_counts_the_inventorys_password_from_the_reset(aging, monkeypatch):
    look(aging, 0)
    own = pathlib.Path(aging["own_file"])
    own.write_text(f"{USER}:{{BLF-CRYPT}}$2y$own\n")
    assert look(aging, 1) == set()  # the own password seen on day 1
    monkeypatch.setattr(PROG.time, "time", lambda: T0 + 50 * DAY)
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"keep": [USER], "reset": [USER], "check": False})))
    assert PROG.prune(aging) == 0
    # USER: 76 days since the reset (a reminder), not 126 since first seen (past the maximum)
    assert look(aging, 126) == {(USER, "soon"), (HOATT, "reached")}
    assert look(aging, 139.9) == set()
    assert look(aging, 140) == {(USER, "reached")}
