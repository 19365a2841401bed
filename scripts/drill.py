#!/usr/bin/env python3
"""The load-and-fault drill (issue #21): traffic into a lab host while faults hit it.

For --duration seconds it offers --rate messages a second to the lab's Debian 13 host
(`make lab`), as the Internet and the users would:
  - inbound on 25 from a partner, 1 KB to 1 MB (most small), a share carrying the EICAR
    test file, each sent the way a real sending server does: a 4xx reply or a broken
    connection means "try again later" (after 5 s here), a 5xx is final;
  - authenticated submission on 587 (STARTTLS) from the lab's users to each other;
  - IMAP readers (one per recipient, over IMAPS) that fetch and delete what arrives.
Meanwhile faults hit the host on a schedule (fractions of the duration):
  - clamd killed (SIGKILL) and kept from restarting for --outage seconds;
  - Dovecot restarted;
  - LMTP unreachable for --outage seconds (Postfix's socket to it taken away);
  - playbooks/site.yml run with a changed Postfix setting (--tags postfix, on every
    host of the inventory, as the monitor host's scrape targets need; Postfix
    reloads), and once more at the end with the inventory's value;
  - the store's mail file system (/var/vmail: `make lab` gives the lab's Debian 13 host
    one of its own) filled to --disk-fill percent (above the disk alert's threshold),
    held until MailDiskFull fires (at most --disk-hold seconds), then freed. Refused on a
    host whose /var/vmail is not a file system of its own (the drill never fills the
    machine's).
The monitor host's Prometheus (the lab host is it) is read every 2 s for alerts.

At the end (every accepted message delivered, the queue empty; bounded by --settle) mail
Postfix still holds (deferred again, waiting its next retry) gets one `postqueue -f` and up
to 90 s more: it is late, not lost, and counted apart. Then it
prints messages offered, accepted, refused (EICAR), delivered; lost and duplicated,
counted per message id (what the readers found in the Maildirs, and the LMTP deliveries
Dovecot logged); each fault with the alert it should raise, when it fired and resolved;
the sustained accepted rate and the delivery latency (accepted -> saved in the Maildir,
from Dovecot's log) as p50/p95. Figures also go to reports/drill.json. Exit status 1
when anything was lost or duplicated, an EICAR message was accepted, a clean one refused,
or an expected alert did not fire and resolve.
"""

from __future__ import annotations

import argparse
import collections
import imaplib
import json
import os
import pathlib
import queue
import random
import re
import shlex
import smtplib
import ssl
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers.lab import (  # noqa: E402
    FETCH, LMTP_SOCKET, changed_counts, load_lab_data, podman, run_site, target_for)
from tests.helpers.mailclient import EICAR, IMAPS, SMTP  # noqa: E402

RETRY_AFTER = 5.0
# An alert counts for a fault when it fires within this many seconds after the fault ended
# (the lab's for: delays plus a scrape and an evaluation are seconds)
GRACE = 120.0
# After the settle time: how long the last sweep (postqueue -f) may take to deliver what Postfix held.
FINAL_SWEEP = 90.0
# Readers and recipients: the lab's active accounts that receive ordinary mail (not the
# postmaster, who gets the alerts; not the 1 MB test mailbox; not the alert account).
RECIPIENTS = ["vanphong@gialai.gov.vn", "locnv@gialai.gov.vn", "hoatt@gialai.gov.vn"]
PARTNER = "doitac@partner.example"
# The disk fault's file, on the store's mail file system (removed when the fault ends, or fails),
# and the alert it must raise.
DISK_FILL_FILE = "/var/vmail/.drill-disk-fill"
DISK_ALERT = ("MailDiskFull", "")
# The faults, in the order they hit (Drill.run_faults has each one's time, action and alert).
FAULTS = ("clamd", "dovecot", "lmtp", "site", "disk")


def now() -> float:
    return time.time()


class Ledger:
    """What happened to each message, by number; shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.offered: dict[int, dict] = {}
        self.accepted: dict[int, float] = {}
        self.refused: dict[int, str] = {}
        # submission deferred by the per-login hourly limit (postfix-ratelimit's 450 4.7.1): a real
        # client keeps it for later; the drill does not retry it and reports it apart
        self.limited: dict[int, str] = {}
        self.retries = 0
        # message number -> the (mailbox, UID) it was found under: a UID read twice (a session
        # lost before its EXPUNGE) is one message, two UIDs are a duplicate delivery
        self.seen: dict[int, set[tuple[str, bytes]]] = collections.defaultdict(set)

    def note(self, field: str, n: int, value) -> None:
        with self.lock:
            getattr(self, field)[n] = value


class Drill:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lab = load_lab_data()
        self.target = target_for(args.host, self.lab.hostname)
        self.run_id = uuid.uuid4().hex[:10]
        self.ledger = Ledger()
        self.jobs: dict[str, queue.Queue] = {"inbound": queue.Queue(), "submission": queue.Queue()}
        self.retry: list[tuple[float, int]] = []
        self.retry_lock = threading.Lock()
        self.stop_traffic = threading.Event()
        self.stop_all = threading.Event()
        self.faults: list[dict] = []
        self.alerts: dict[tuple, dict] = {}
        self.firing_before: set[tuple] | None = None  # firing at the first look: not the drill's
        self.late: list[int] = []  # delivered only after the last flush (they waited Postfix's backoff)
        self.rng = random.Random(args.seed)
        self.submitters = [a for a in RECIPIENTS if a in self.lab.passwords]

    # ---- the host ---------------------------------------------------------------
    def sh(self, command: str, check: bool = True) -> str:
        result = podman("exec", self.args.host, "sh", "-c", command, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(f"{command}: {result.stderr.strip()}")
        return result.stdout

    # ---- messages ---------------------------------------------------------------
    def message_id(self, n: int) -> str:
        return f"<drill-{self.run_id}-{n}@drill.lab>"

    def size(self) -> int:
        roll = self.rng.random()
        if roll < 0.80:
            return self.rng.randint(1024, 20 * 1024)
        if roll < 0.95:
            return self.rng.randint(20 * 1024, 200 * 1024)
        return self.rng.randint(200 * 1024, self.args.max_kb * 1024)

    def build(self, n: int) -> EmailMessage:
        job = self.ledger.offered[n]
        msg = EmailMessage()
        msg["From"] = job["from"]
        msg["To"] = job["to"]
        msg["Subject"] = f"Diễn tập {self.run_id} #{n}"
        msg["Message-ID"] = self.message_id(n)
        msg["X-Drill"] = f"{self.run_id} {n}"
        text = f"Thư diễn tập số {n} (drill message {n}).\n"
        msg.set_content(text * max(1, job["size"] // len(text.encode())), charset="utf-8")
        if job["eicar"]:
            msg.add_attachment(EICAR, maintype="application", subtype="octet-stream", filename="eicar.com")
        return msg

    # ---- traffic ----------------------------------------------------------------
    def schedule(self) -> None:
        """Offer messages at the set rate until the duration ends; re-offer the deferred ones."""
        start, n = now(), 0
        submission_every = (1 / self.args.submission_rate) if self.args.submission_rate > 0 else None
        next_submission = start + (submission_every or 0)
        while not self.stop_traffic.is_set():
            t = now()
            if t - start >= self.args.duration:
                break
            due = start + n / self.args.rate
            if t >= due:
                kind = "submission" if submission_every and t >= next_submission else "inbound"
                if kind == "submission":
                    next_submission += submission_every
                    sender = self.submitters[n % len(self.submitters)]
                    rcpt = self.rng.choice([r for r in RECIPIENTS if r != sender])
                    eicar = False
                else:
                    sender, rcpt = PARTNER, self.rng.choice(RECIPIENTS)
                    eicar = self.rng.random() < self.args.eicar
                self.ledger.note("offered", n, {"kind": kind, "from": sender, "to": rcpt, "size": self.size(),
                                                "eicar": eicar, "at": t})
                self.jobs[kind].put(n)
                n += 1
            self.requeue()
            time.sleep(max(0.0, min(0.05, start + n / self.args.rate - now())))
        self.stop_traffic.set()

    def requeue(self) -> None:
        with self.retry_lock:
            ready = [job for job in self.retry if job[0] <= now()]
            self.retry = [job for job in self.retry if job[0] > now()]
        for _, n in ready:
            self.jobs[self.ledger.offered[n]["kind"]].put(n)

    def pending_retries(self) -> int:
        with self.retry_lock:
            return len(self.retry)

    def defer(self, n: int) -> None:
        with self.retry_lock:
            self.retry.append((now() + RETRY_AFTER, n))
        with self.ledger.lock:
            self.ledger.retries += 1

    def connect(self, kind: str, login: str | None):
        if kind == "inbound":
            client = SMTP(self.target, 25, timeout=60)
            client.ehlo("mx.partner.example")
            return client
        client = SMTP(self.target, 587, timeout=60)
        client.ehlo("workstation.gialai.gov.vn")
        client.starttls()
        client.ehlo("workstation.gialai.gov.vn")
        client.login(login, self.lab.password(login))
        return client

    def sender(self, kind: str) -> None:
        """One SMTP session at a time, kept open between messages, reopened after an error."""
        clients: dict[str | None, smtplib.SMTP] = {}
        jobs = self.jobs[kind]
        while not (self.stop_all.is_set() or (self.stop_traffic.is_set() and jobs.empty()
                                               and not self.pending_retries())):
            try:
                n = jobs.get(timeout=0.5)
            except queue.Empty:
                self.requeue()
                continue
            job = self.ledger.offered[n]
            login = job["from"] if kind == "submission" else None
            try:
                if login not in clients:
                    clients[login] = self.connect(kind, login)
                clients[login].send_message(self.build(n), from_addr=job["from"], to_addrs=[job["to"]])
                self.ledger.note("accepted", n, now())
            except smtplib.SMTPResponseException as exc:
                self.answer(n, exc.smtp_code, exc.smtp_error, clients, login)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                self.answer(n, code, text, clients, login)
            except (OSError, smtplib.SMTPException, ssl.SSLError):
                self.close(clients, login)
                self.defer(n)
        for login in list(clients):
            self.close(clients, login)

    def answer(self, n: int, code: int, text: bytes, clients: dict, login: str | None) -> None:
        reply = f"{code} {text.decode(errors='replace')}"
        if 400 <= code < 500 and "rate limit for" in reply:
            self.ledger.note("limited", n, reply)
        elif 400 <= code < 500:
            self.defer(n)
        else:
            self.ledger.note("refused", n, reply)
        try:
            clients[login].rset()
        except Exception:  # noqa: BLE001  (the session is gone: open a new one next time)
            self.close(clients, login)

    @staticmethod
    def close(clients: dict, login: str | None) -> None:
        client = clients.pop(login, None)
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001
                pass

    def reader(self, address: str) -> None:
        """Fetch this run's messages from INBOX, note their numbers, delete them; reconnect on errors."""
        pattern = re.compile(rb"X-Drill: " + self.run_id.encode() + rb" (\d+)")
        imap = None
        while True:
            final = self.stop_all.is_set()
            try:
                if imap is None:
                    imap = IMAPS(self.target, timeout=60)
                    imap.login(address, self.lab.password(address))
                    imap.select("INBOX")
                typ, data = imap.uid("SEARCH", None, "HEADER", "X-Drill", self.run_id)
                uids = data[0].split() if typ == "OK" and data and data[0] else []
                for chunk in range(0, len(uids), 200):
                    part = b",".join(uids[chunk:chunk + 200])
                    typ, fetched = imap.uid("FETCH", part, "(UID BODY.PEEK[HEADER.FIELDS (X-DRILL)])")
                    for item in fetched:
                        if isinstance(item, tuple):
                            found = pattern.search(item[1])
                            uid = re.search(rb"UID (\d+)", item[0])
                            if found and uid:
                                with self.ledger.lock:
                                    self.ledger.seen[int(found.group(1))].add((address, uid.group(1)))
                    imap.uid("STORE", part, "+FLAGS.SILENT", r"(\Deleted)")
                    imap.uid("EXPUNGE", part)
            except (OSError, imaplib.IMAP4.error, ssl.SSLError):
                try:
                    if imap is not None:
                        imap.shutdown()
                except Exception:  # noqa: BLE001
                    pass
                imap = None
                if final:
                    continue  # the last sweep must complete
            if final:
                break
            time.sleep(1)
        if imap is not None:
            try:
                imap.logout()
            except Exception:  # noqa: BLE001
                pass

    # ---- alerts -----------------------------------------------------------------
    def watch_alerts(self) -> None:
        """Every 2 s: the alerts Prometheus has firing; note when each started and ended."""
        get = f"python3 -c {shlex.quote(FETCH)} http://127.0.0.1:9090/api/v1/alerts"
        while not self.stop_all.is_set():
            try:
                firing = {(a["labels"]["alertname"], a["labels"].get("name", "")): a
                          for a in json.loads(self.sh(get))["data"]["alerts"]
                          if a["state"] == "firing"}
            except (RuntimeError, ValueError, KeyError):
                time.sleep(2)
                continue
            t = now()
            if self.firing_before is None:
                self.firing_before = set(firing)
            for key in set(firing) - self.firing_before:
                entry = self.alerts.setdefault(key, {"fired": t, "resolved": None})
                if entry["resolved"] is not None:  # fired again
                    self.alerts[key] = {"fired": t, "resolved": None}
            for key, entry in self.alerts.items():
                if key not in firing and entry["resolved"] is None:
                    entry["resolved"] = t
            time.sleep(2)

    # ---- faults -----------------------------------------------------------------
    def fault(self, name: str, alert: tuple | None, action) -> None:
        record = {"fault": name, "start": now(), "alert": list(alert) if alert else None}
        self.faults.append(record)
        try:
            detail = action()
        except (RuntimeError, subprocess.SubprocessError) as exc:
            detail, record["error"] = f"FAILED: {exc}", str(exc)
        record["end"] = now()
        if detail:
            record["detail"] = detail

    def kill_clamd(self) -> str:
        # A crash that does not heal: masked for the outage, systemd's restart cannot start it.
        self.sh("systemctl mask --runtime clamav-daemon.service >/dev/null 2>&1; "
                "systemctl kill --signal=SIGKILL clamav-daemon.service")
        time.sleep(self.args.outage)
        self.sh("systemctl unmask --runtime clamav-daemon.service; systemctl reset-failed clamav-daemon.service; "
                "systemctl start clamav-daemon.service")
        return self.wait_active("clamav-daemon")

    def restart_dovecot(self) -> str:
        self.sh("systemctl restart dovecot")
        return self.wait_active("dovecot")

    def lmtp_away(self) -> str:
        self.sh(f"mv {LMTP_SOCKET} {LMTP_SOCKET}.drill")
        time.sleep(self.args.outage)
        self.sh(f"mv {LMTP_SOCKET}.drill {LMTP_SOCKET}")
        deferred = self.queue_size()
        # the operator's step after an outage: retry the deferred mail now, not at the next backoff
        self.sh("postqueue -f")
        return f"{deferred} messages in the queue when LMTP came back; postqueue -f"

    def site_change(self, value: int | None) -> str:
        extra = {} if value is None else {"postfix_anvil_connection_rate_limit": value}
        result = run_site(None, extra, "postfix", inventory=self.args.inventory)
        if result.returncode != 0:
            raise RuntimeError(f"site.yml failed:\n{result.stdout[-3000:]}")
        return f"site.yml --tags postfix: changed {changed_counts(result.stdout)}"

    def fill_disk(self) -> str:
        # Only a file system of its own: on the container's overlay it would be the machine's disk.
        mount = self.sh("findmnt -n -o TARGET,FSTYPE --target /var/vmail", check=False)
        target, _, fstype = mount.strip().partition(" ")
        if target != "/var/vmail":
            raise RuntimeError("/var/vmail is not a file system of its own on this host (make lab-destroy, "
                               "then make lab: scripts/lab.sh gives lab-mail13 one); the disk was not filled")
        # bytes to write for --disk-fill percent used (none when it is that full already), and the size
        fill = ("import os; st=os.statvfs('/var/vmail'); size=st.f_blocks*st.f_frsize; "
                f"print(max(0, int(size*{self.args.disk_fill}/100) - (size - st.f_bavail*st.f_frsize)), size)")
        want, size = (int(x) for x in self.sh(f"python3 -c {shlex.quote(fill)}").split())
        try:
            if want:
                self.sh(f"fallocate -l {want} {DISK_FILL_FILE}")
            start = now()
            while now() - start < self.args.disk_hold:
                if DISK_ALERT in self.alerts and self.alerts[DISK_ALERT]["resolved"] is None:
                    break
                time.sleep(1)
        finally:
            self.sh(f"rm -f {DISK_FILL_FILE}")
        return (f"{fstype.strip()} /var/vmail of {size / 2**30:.1f} GiB filled to {self.args.disk_fill} % "
                f"({want / 2**20:.0f} MiB written), held {now() - start:.0f} s, freed")

    def wait_active(self, unit: str) -> str:
        start = now()
        while now() - start < 120:
            if self.sh(f"systemctl is-active {unit}", check=False).strip() == "active":
                return f"{unit} active {now() - start:.1f} s later"
            time.sleep(0.5)
        raise RuntimeError(f"{unit} not active 120 s after the fault ended")

    def run_faults(self, start: float) -> None:
        d, f = self.args.duration, self.args.outage
        plan = [
            ("clamd", 0.10, "clamd killed (SIGKILL), down for %d s" % f,
             ("MailServiceDown", "clamav-daemon.service"), self.kill_clamd),
            ("dovecot", 0.35, "Dovecot restarted", None, self.restart_dovecot),
            ("lmtp", 0.50, "LMTP unreachable for %d s" % f, ("MailQueueDeferred", ""), self.lmtp_away),
            ("site", 0.75, "site.yml with a changed Postfix setting (reload)", None,
             lambda: self.site_change(self.args.changed_value)),
            ("disk", 0.85, "the store's mail file system filled to %d %%" % self.args.disk_fill,
             DISK_ALERT, self.fill_disk),
        ]
        assert tuple(key for key, *_ in plan) == FAULTS, "FAULTS lists the plan's faults in order"
        for key, at, name, alert, action in plan:
            if key not in self.args.faults:
                continue
            while now() < start + at * d:
                if self.stop_all.wait(0.5):
                    return
            print(f"drill: {now() - start:6.0f} s  fault: {name}", flush=True)
            self.fault(name, None if self.args.no_alerts else alert, action)

    # ---- the run ----------------------------------------------------------------
    def delivery_log(self, since: float) -> dict[int, list[float]]:
        """{message number: [times Dovecot saved it]} from the host's journal."""
        out = self.sh(f"journalctl -u dovecot --since @{int(since) - 1} -o short-unix --no-pager "
                      f"| grep -F 'msgid=<drill-{self.run_id}-' | grep -F 'saved mail to' || true")
        saved: dict[int, list[float]] = collections.defaultdict(list)
        for line in out.splitlines():
            found = re.match(r"(\d+\.\d+) .*msgid=<drill-" + self.run_id + r"-(\d+)@", line)
            if found:
                saved[int(found.group(2))].append(float(found.group(1)))
        return saved

    def queue_size(self) -> int:
        return int(self.sh("postqueue -j | grep -c . || true").strip() or 0)

    def run(self) -> int:
        a = self.args
        print(f"drill {self.run_id}: {a.duration} s at {a.rate} msg/s ({a.submission_rate}/s on 587, "
              f"{a.eicar:.0%} of inbound with EICAR) into {a.host} ({self.target.address})", flush=True)
        threads = [threading.Thread(target=self.reader, args=(r,), daemon=True) for r in RECIPIENTS]
        if not a.no_alerts:
            threads.append(threading.Thread(target=self.watch_alerts, daemon=True))
        senders = [threading.Thread(target=self.sender, args=("inbound",), daemon=True) for _ in range(a.senders)]
        senders += [threading.Thread(target=self.sender, args=("submission",), daemon=True)]
        for t in threads + senders:
            t.start()
        start = now()
        faults = threading.Thread(target=self.run_faults, args=(start,), daemon=True)
        if a.faults:
            faults.start()
        self.schedule()
        traffic_end = now()
        print(f"drill: {traffic_end - start:6.0f} s  traffic over; waiting for the retries and the queue", flush=True)
        if faults.is_alive():
            faults.join()
        deadline = now() + a.settle
        for t in senders:
            t.join(max(1.0, deadline - now()))
        self.wait_for_delivery(deadline)
        # Mail Postfix still holds at the end (deferred again during a fault, waiting its next
        # retry, up to 5 minutes away) is late, not lost: flush once, as an operator would, and
        # wait a bounded while. What is then neither delivered nor queued is lost.
        with self.ledger.lock:
            waiting = set(self.ledger.accepted) - set(self.ledger.seen)
        queued = self.queue_size()
        if waiting and queued:
            print(f"drill: {now() - start:6.0f} s  {len(waiting)} accepted messages not delivered, {queued} in "
                  f"Postfix's queue: postqueue -f", flush=True)
            self.sh("postqueue -f")
            self.wait_for_delivery(now() + FINAL_SWEEP)
            with self.ledger.lock:
                self.late = sorted(waiting & set(self.ledger.seen))
        if "site" in a.faults:
            print("drill: site.yml again with the inventory's value", flush=True)
            self.fault("site.yml back to the inventory's setting", None, lambda: self.site_change(None))
        # the alerts the faults raise must resolve (another alert may fire and stay: MailDiskFilling
        # extrapolates the disk fault's sudden fill over its window; the report lists it)
        expected = {tuple(f["alert"]) for f in self.faults if f["alert"]}
        while now() < deadline and any(e["resolved"] is None for k, e in self.alerts.items() if k in expected):
            time.sleep(2)
        self.stop_all.set()
        for t in threads:
            t.join(120)
        return self.report(start, traffic_end)

    def wait_for_delivery(self, deadline: float) -> None:
        """Until every accepted message is found and Postfix's queue is empty, or the deadline."""
        while now() < deadline:
            with self.ledger.lock:
                waiting = set(self.ledger.accepted) - set(self.ledger.seen)
            if not waiting and self.queue_size() == 0:
                return
            time.sleep(2)

    def report(self, start: float, traffic_end: float) -> int:
        led = self.ledger
        t = tally(led.offered, led.accepted, led.refused, led.seen, self.delivery_log(start), led.limited)
        rows, alerts_ok = fault_rows(self.faults, self.alerts, start)
        failed = t["failed"] or not alerts_ok
        lost, duplicated, eicar_accepted, clean_refused = (t["lost"], t["duplicated"], t["eicar_accepted"],
                                                           t["clean_refused"])
        latencies = t["latencies"]
        # outside the faults: accepted neither during one nor in the 30 s after it ended
        windows = [(f["start"], f["end"] + 30) for f in self.faults]
        calm = sorted(lat for n, lat in t["latency_of"].items()
                      if not any(a <= led.accepted[n] <= b for a, b in windows))
        figures = {
            "run": self.run_id, "host": self.args.host, "duration_s": round(traffic_end - start, 1),
            "offered_rate": self.args.rate, "offered": len(led.offered),
            "offered_inbound": sum(1 for j in led.offered.values() if j["kind"] == "inbound"),
            "offered_submission": sum(1 for j in led.offered.values() if j["kind"] == "submission"),
            "offered_eicar": len(t["eicar"]), "accepted": len(led.accepted), "refused": len(led.refused),
            "refused_eicar": len(set(led.refused) & t["eicar"]), "eicar_accepted": len(eicar_accepted),
            "clean_refused": len(clean_refused), "never_answered": len(t["never"]), "retries_after_4xx": led.retries,
            "held_by_login_limit": len(t["limited"]),
            "delivered": t["delivered"], "lost": len(lost), "duplicated": len(duplicated),
            "late_after_final_flush": len(self.late),
            "duplicated_in_lmtp_log": len(t["log_duplicated"]), "delivered_not_accepted": len(t["unexpected"]),
            "accepted_rate": round(sum(1 for when in led.accepted.values() if when <= traffic_end)
                                   / max(1.0, traffic_end - start), 2),
            "latency_p50_s": percentile(latencies, 0.50), "latency_p95_s": percentile(latencies, 0.95),
            "latency_max_s": round(latencies[-1], 2) if latencies else None,
            "latency_outside_faults_p50_s": percentile(calm, 0.50),
            "latency_outside_faults_p95_s": percentile(calm, 0.95), "delivered_outside_faults": len(calm),
            "faults": rows,
            "alerts_firing_before": sorted(" ".join(k).strip() for k in (self.firing_before or set())),
            "alerts": [{"alert": k[0], "name": k[1], "fired": round(e["fired"] - start, 1),
                        "resolved": None if e["resolved"] is None else round(e["resolved"] - start, 1)}
                       for k, e in sorted(self.alerts.items(), key=lambda i: i[1]["fired"])],
            "examples": {"lost": lost[:10], "duplicated": duplicated[:10], "late": self.late[:10], "clean_refused":
                         {n: led.refused[n] for n in clean_refused[:5]}, "eicar_accepted": eicar_accepted[:10]},
            "verdict": "FAIL" if failed else "PASS",
        }
        out = pathlib.Path(self.args.report)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
        print(f"\n== drill {self.run_id} on {self.args.host}: {figures['duration_s']:.0f} s of traffic")
        print(f"offered    {figures['offered']:>6}  ({figures['offered_inbound']} on 25, {figures['offered_submission']} "
              f"on 587; {figures['offered_eicar']} with EICAR)")
        print(f"accepted   {figures['accepted']:>6}  ({figures['accepted_rate']} msg/s sustained; "
              f"{figures['retries_after_4xx']} retries after a 4xx or a broken session)")
        print(f"refused    {figures['refused']:>6}  ({figures['refused_eicar']} EICAR; clean ones refused: "
              f"{figures['clean_refused']}; EICAR accepted: {figures['eicar_accepted']}); never answered: "
              f"{figures['never_answered']}; held back by the per-login hourly limit (450): "
              f"{figures['held_by_login_limit']}")
        print(f"delivered  {figures['delivered']:>6}  lost {figures['lost']}, duplicated {figures['duplicated']} "
              f"(Maildirs, per message id); duplicated in Dovecot's LMTP log {figures['duplicated_in_lmtp_log']}; "
              f"late (still in Postfix's queue at the end, delivered after a last postqueue -f): "
              f"{figures['late_after_final_flush']}")
        print(f"latency    p50 {figures['latency_p50_s']} s, p95 {figures['latency_p95_s']} s, max "
              f"{figures['latency_max_s']} s (accepted -> saved in the Maildir); outside the faults "
              f"(+30 s): p50 {figures['latency_outside_faults_p50_s']} s, p95 "
              f"{figures['latency_outside_faults_p95_s']} s ({len(calm)} messages)")
        for r in rows:
            alert = "no alert expected" if not r["alert"] else (
                f"{r['alert'][0]} {r['alert'][1]}: fired after {r['alert_fired_after']} s, "
                f"resolved after {r['alert_resolved_after']} s")
            print(f"fault at {r['start']:>5.0f} s  {r['fault']}: {alert}; {r.get('detail', '')}")
        seen = [f"{a['alert']}{' ' + a['name'] if a['name'] else ''} {a['fired']}-"
                f"{a['resolved'] if a['resolved'] is not None else 'still firing'}" for a in figures["alerts"]]
        print(f"alerts     (s from the start) {'; '.join(seen) or 'none'}")
        print(f"verdict    {figures['verdict']} ({out})")
        return 1 if failed else 0


def tally(offered: dict[int, dict], accepted: dict[int, float], refused: dict[int, str],
          seen: dict[int, set], saved: dict[int, list[float]], limited: dict[int, str] | None = None) -> dict:
    """The drill's verdict on its messages.

    offered: number -> job (its "eicar" flag); accepted: number -> time of the 250 reply;
    refused: number -> the 5xx reply; seen: number -> the (mailbox, UID) pairs the readers
    found it under; saved: number -> the times Dovecot's LMTP logged saving it.
    Lost: accepted, found in no mailbox. Duplicated: found under two UIDs or mailboxes, or
    saved twice by LMTP. An EICAR message accepted, a clean one refused, a message never
    answered (neither accepted nor refused) or one found but never accepted fail the drill too.
    limited: number -> the per-login limit's 450 that held a submission back (reported, not a
    failure: the limit is policy; a later success counts as accepted).
    """
    limited = {n: r for n, r in (limited or {}).items() if n not in accepted}
    eicar = {n for n, job in offered.items() if job["eicar"]}
    result = {
        "eicar": eicar,
        "lost": sorted(set(accepted) - set(n for n, found in seen.items() if found)),
        "duplicated": sorted(n for n, found in seen.items() if len(found) > 1),
        "log_duplicated": sorted(n for n, times in saved.items() if len(times) > 1),
        "unexpected": sorted(n for n, found in seen.items() if found and n not in accepted),
        "eicar_accepted": sorted(set(accepted) & eicar),
        "clean_refused": sorted(set(refused) - eicar),
        "limited": sorted(limited),
        "never": sorted(set(offered) - set(accepted) - set(refused) - set(limited)),
        "delivered": sum(1 for n, found in seen.items() if found and n in accepted),
        "latency_of": {n: saved[n][0] - accepted[n] for n in accepted if saved.get(n)},
    }
    result["latencies"] = sorted(result["latency_of"].values())
    result["failed"] = any(result[k] for k in ("lost", "duplicated", "log_duplicated", "unexpected",
                                               "eicar_accepted", "clean_refused", "never"))
    return result


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile of sorted values (nearest rank), rounded to 10 ms; None when empty."""
    if not values:
        return None
    return round(values[min(len(values) - 1, max(0, int(round(q * len(values))) - 1))], 2)


def fault_rows(faults: list[dict], alerts: dict[tuple, dict], start: float) -> tuple[list[dict], bool]:
    """Each fault with its expected alert's delay to fire and to resolve (seconds from the fault's
    start; None when it did not); False when an expected alert did not both fire and resolve.

    The alert counts when it was firing at some time between the fault's start and its end and
    resolved after the start: fired after the fault began, or already firing when it began (an
    earlier fault's, then a negative delay) and still firing at it."""
    rows, ok = [], True
    for f in faults:
        entry = alerts.get(tuple(f["alert"])) if f["alert"] else None
        during = entry and entry["fired"] <= f["end"] + GRACE and (entry["resolved"] or f["start"]) >= f["start"]
        fired = entry["fired"] - f["start"] if during else None
        resolved = entry["resolved"] - f["start"] if during and entry["resolved"] else None
        if f.get("error") or (f["alert"] and (fired is None or resolved is None)):
            ok = False
        rows.append({**f, "start": round(f["start"] - start, 1), "end": round(f["end"] - start, 1),
                     "alert_fired_after": None if fired is None else round(fired, 1),
                     "alert_resolved_after": None if resolved is None else round(resolved, 1)})
    return rows, ok


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="lab-mail13", help="the lab container (also the monitor host)")
    p.add_argument("--duration", type=int, default=600, help="seconds of traffic (default 600)")
    p.add_argument("--rate", type=float, default=20.0, help="messages offered a second (default 20)")
    p.add_argument("--submission-rate", type=float, default=0.05,
                   help="of those, a second on 587 (default 0.05: 30 in 10 minutes over 3 logins, several drills an hour within the lab users' 100 an hour)")
    p.add_argument("--eicar", type=float, default=0.05, help="share of inbound with EICAR (default 0.05)")
    p.add_argument("--max-kb", type=int, default=1024, help="largest message in KB (default 1024)")
    p.add_argument("--senders", type=int, default=6, help="parallel SMTP sessions on 25 (default 6)")
    p.add_argument("--outage", type=int, default=60, help="seconds clamd and LMTP stay down (default 60)")
    p.add_argument("--settle", type=int, default=600, help="at most this long to deliver what was accepted")
    p.add_argument("--changed-value", type=int, default=2999,
                   help="postfix_anvil_connection_rate_limit for the site.yml fault (default 2999)")
    p.add_argument("--faults", default=",".join(FAULTS),
                   help=f"which faults, comma-separated (default all: {','.join(FAULTS)}; '' for none)")
    p.add_argument("--disk-fill", type=int, default=90,
                   help="percent of /var/vmail's file system the disk fault fills (default 90; the lab's alert: 85)")
    p.add_argument("--disk-hold", type=int, default=120,
                   help="at most this long the disk stays full waiting for MailDiskFull (default 120)")
    p.add_argument("--no-alerts", action="store_true",
                   help="the host is no monitor host: faults without their alerts")
    p.add_argument("--inventory", default=str(ROOT / "inventories" / "lab" / "hosts.yml"),
                   help="the inventory the site.yml fault runs with (default: the lab's)")
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--report", default=str(ROOT / "reports" / "drill.json"), help="where the figures go")
    args = p.parse_args()
    # the site.yml fault runs Ansible with the strategy `make` sets (MAIL_ANSIBLE_STRATEGY), as scripts/lab.sh does
    os.environ.setdefault("ANSIBLE_STRATEGY", os.environ.get("MAIL_ANSIBLE_STRATEGY", "linear"))
    args.faults = [x for x in args.faults.split(",") if x]
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        p.error(f"--faults: unknown {', '.join(sorted(unknown))} (known: {', '.join(FAULTS)})")
    if not 0 < args.disk_fill < 100:
        p.error("--disk-fill is a percentage between 0 and 100")
    if args.rate <= args.submission_rate or args.duration < 20:
        p.error("--rate must exceed --submission-rate and --duration be at least 20 s")
    return Drill(args).run()


if __name__ == "__main__":
    sys.exit(main())
