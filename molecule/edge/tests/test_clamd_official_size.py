"""clamd starting from a signature database the size of the official one (AV-08).

The lab runs clamd on two EICAR signatures (the ClamAV mirror is unreachable here), so the
production path, clamd loading ~8.7 million signatures, would never run. This test writes a
generated database of that size (tests/helpers/clamav_db.py, shared with `make bench`: 8.2
million signatures, ~470 MiB) into our mail host's own database directory, restarts the
host's clamd as deployed (the role's clamd.conf and systemd units) and proves it serves: PING
answered, EICAR still found, a clean file clean, the generated database's last signature
found (so all of it was loaded), and over SMTP on 25 an infected message refused, a clean one
accepted. It prints the start time and clamd's resident memory (reports/clamd-official-size.txt,
shown at the end of the run); they are figures, not asserted.

Afterwards the generated files are removed and clamd is restarted on the lab's signatures, so
the scenario's other tests see the lab's clamd again. Marked exclusive: while clamd loads, mail
waits (4xx).
"""

from __future__ import annotations

import json
import pathlib
import shlex
import smtplib

import pytest

from tests.helpers import clamav_db
from tests.helpers.mailclient import make_message, smtp_send

ROOT = pathlib.Path(__file__).resolve().parents[3]
REPORT = ROOT / "reports" / "clamd-official-size.txt"
DB_DIR = "/var/lib/clamav"  # the role's database directory (roles/clamav/vars/main.yml), as in production
SOCKET = "/run/clamav/clamd.ctl"  # clamav_clamd_socket's default
UNIT = "clamav-daemon"
START_TIMEOUT = 900  # seconds clamd may take to load (bounded wait; 13.8 s on a quiet machine)
SENDER = "someone@evil.example"  # a domain with an MX and no DMARC record (the scenario's DNS)
RCPT = "hoatt@gialai.gov.vn"


def eicar() -> bytes:
    """The EICAR test file, assembled here so that scanners leave this source alone."""
    return ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


# Runs on the mail host as root: restart clamd through systemd, wait (bounded) until its socket
# answers PING, read its memory, then ask it to scan each sample (INSTREAM). Prints JSON.
START_AND_SCAN = clamav_db.CLAMD_CLIENT + r"""
import json, re, subprocess, sys, time
sock, unit, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
samples = [bytes.fromhex(h) for h in sys.argv[4:]]

start = time.monotonic()
subprocess.run(["systemctl", "restart", unit], check=True)
while True:
    try:
        if ask(sock, b"zPING\0", wait=10) == "PONG":
            break
    except OSError:
        pass
    if time.monotonic() - start > timeout:
        sys.exit(f"clamd did not answer PING within {timeout:.0f} s")
    time.sleep(0.2)
loaded = time.monotonic() - start
pid = subprocess.run(["systemctl", "show", "-p", "MainPID", "--value", unit], capture_output=True,
                     text=True).stdout.strip()
status = open(f"/proc/{pid}/status").read()
print(json.dumps({"start_seconds": round(loaded, 1), "pid": pid,
                  "rss_kb": int(re.search(r"VmRSS:\s+(\d+)", status).group(1)),
                  "peak_kb": int(re.search(r"VmHWM:\s+(\d+)", status).group(1)),
                  "version": ask(sock, b"zVERSION\0"),
                  "answers": [ask(sock, b"zINSTREAM\0", sample, wait=120) for sample in samples]}))
"""


def _start_and_scan(host, *samples: bytes) -> dict:
    run = host.run(f"python3 -c {shlex.quote(START_AND_SCAN)} {SOCKET} {UNIT} {START_TIMEOUT} "
                   + " ".join(sample.hex() for sample in samples))
    assert run.rc == 0 and run.stdout.strip(), (run.rc, run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def _send(edge, msg) -> tuple[int, str]:
    """Over SMTP on 25 from outside: 250 when accepted, else the refusal."""
    try:
        refused = smtp_send(edge.mail.target, msg, port=25, sender=SENDER)
    except smtplib.SMTPResponseException as exc:
        return exc.smtp_code, exc.smtp_error.decode(errors="replace")
    assert refused == {}, refused
    return 250, ""


def _generated_files() -> str:
    return " ".join(f"{DB_DIR}/{name}" for name in clamav_db.FILES)


@pytest.mark.exclusive
@pytest.mark.control("AV-08")
def test_clamd_starts_from_an_official_size_database_and_serves(edge, evidence):
    host = edge.mail.host
    assert host.run(f"test -e {DB_DIR}/lab-eicar.hdb && ! ls {_generated_files()}").rc == 0  # the lab's state
    clean = b"Bao cao tuan: khong co tep dinh kem nguy hiem.\n" * 200
    marked = b""
    try:
        made = host.run(f"python3 -c {shlex.quote(pathlib.Path(clamav_db.__file__).read_text())} {DB_DIR} "
                        f"&& chown clamav:clamav {_generated_files()} && chmod 0644 {_generated_files()}")
        assert made.rc == 0, made.stderr[-2000:]
        db = json.loads(made.stdout.strip().splitlines()[-1])
        name, body = db["marker"]
        marked = b"header " + bytes.fromhex(body) + b" trailer"  # holds the last generated signature's bytes
        got = _start_and_scan(host, eicar(), clean, marked)
        eicar_answer, clean_answer, marked_answer = got["answers"]
        # what clamd answers on its socket, as clamav-milter asks it
        assert eicar_answer.startswith("stream: Lab.Eicar-Test-") and eicar_answer.endswith(" FOUND"), got
        assert clean_answer == "stream: OK", got
        # the generated database's last signature: all of it is loaded (ExtendedDetectionInfo adds "(md5:size)")
        assert marked_answer.startswith(f"stream: {name}.UNOFFICIAL") and marked_answer.endswith(" FOUND"), got
        # what a sender on 25 sees with it: the milter's verdicts through this clamd
        infected = make_message(SENDER, [RCPT], "Tep dinh kem co mau cua co so du lieu day du")
        infected.add_attachment(marked, maintype="application", subtype="octet-stream", filename="baocao.bin")
        code, text = _send(edge, infected)
        assert code == 550 and "5.7.1" in text and name in text, (code, text)
        assert _send(edge, make_message(SENDER, [RCPT], "Thu sach qua clamd day du", clean.decode())) == (250, "")
        figures = (f"clamd ({got['version']}) with a generated database of {db['signatures']:,} signatures "
                   f"({db['bytes'] / 1048576:.0f} MiB, written on the host in {db['seconds']:.0f} s): "
                   f"restart until PONG {got['start_seconds']:.1f} s, resident {got['rss_kb'] / 1024:.0f} MiB "
                   f"(peak {got['peak_kb'] / 1024:.0f} MiB)")
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(figures + "\n")
        evidence(figures)
        evidence(f"INSTREAM: EICAR -> {eicar_answer}; clean -> {clean_answer}; {name}'s bytes -> {marked_answer}")
        evidence(f"SMTP 25: {name}'s bytes attached -> {code} {text}")
    finally:
        removed = host.run(f"rm -f {_generated_files()}")
        back = _start_and_scan(host, eicar(), clean, marked)
    # the lab's clamd again, for the scenario's other tests: EICAR found, the generated signatures gone
    assert removed.rc == 0, removed.stderr
    assert back["answers"][0].startswith("stream: Lab.Eicar-Test-") and back["answers"][1:] == ["stream: OK"] * 2, back
    evidence(f"restored: the lab's database, clamd restart until PONG {back['start_seconds']:.1f} s, "
             f"resident {back['rss_kb'] / 1024:.0f} MiB")
