"""Metrics and alerts (issue #21, controls MON-01…08): the metrics role on both mail hosts, the
monitoring role on ours (mail_monitor).

Prometheus on our host scrapes every exporter of both hosts (node exporter with the mail units and
mail-metrics' textfile, the Postfix exporter) and has the rules loaded; the rules pass their own
tests (promtool test rules) and a broken rule does not; the exporters answer the monitor host and
no one else (the partner, an outside host to us, gets no connection). End to end, each fault made
on our host and its alert followed to the webhook on the DNS host (the lab shortens `for:` to 10 s
through the role's variables): clamd or Dovecot stopped → MailServiceDown → started → resolved; a backup
27 h old → MailBackupOld → a good backup → resolved, at the webhook and in the postmaster's mailbox
(MON-07: the alert account's mail on submission; that login refused from another host). Every wait is a bounded poll on what the server says."""

from __future__ import annotations

import email
import email.utils
import json
import os
import re
import shlex
import subprocess
import time

import pytest

from tests.audit.test_monitoring import ALERTS  # the rules file's rules, in order
from tests.helpers.agency import WRONG_IMAP, agency_address
from tests.helpers.fail2ban import failed_total, forget
from tests.helpers.lab import TLS_DIR, fetch, podman_env, poll, postfix_queue
from tests.helpers.mailclient import IMAPS, imap_wait_for
from tests.helpers.outside import PORT_STATE, container_network, run_client
from tests.helpers.tls_ca import short_lived_certificate

POSTMASTER = "postmaster@gialai.gov.vn"  # where the mail layer sends the alerts (monitoring_alert_email_to)
PROMETHEUS = "http://127.0.0.1:9090"  # monitoring_prometheus_listen (loopback of the monitor host)
RULES = "/etc/prometheus/rules/mail.rules.yml"
WEBHOOK_LOG = "/var/lib/edge-webhook/alerts.jsonl"  # converge.yml's receiver on the DNS host
EXPORTERS = {9100: "node", 9154: "postfix", 9900: "dovecot"}  # Dovecot 2.4's own (dovecot_metrics_port)

# Copy a rules file with MailQueueDeferred's threshold ten times higher (and one more).
BREAK = """import re, sys
text = open(sys.argv[1]).read()
new = re.sub(r'(queue="deferred"[}]\\) > )([0-9]+)', lambda m: m.group(1) + str(int(m.group(2)) * 10 + 1), text)
assert new != text
open(sys.argv[2], "w").write(new)
"""
# MailServiceDown with only its "not active" half: the masked-unit half (from "or" to the end
# of the expression) cut out
UNMASK = """import re, sys
text = open(sys.argv[1]).read()
new = re.sub(r'\\n +or [(]max_over_time[(][^\\n]*\\n[^\\n]*\\n[^\\n]*[)]\\n', '\\n', text, count=1)
assert new != text
open(sys.argv[2], "w").write(new)
"""

def api(host, path: str):
    data = json.loads(fetch(host, PROMETHEUS + path))
    assert data["status"] == "success", data
    return data["data"]


def address(host) -> str:
    return host.run("hostname -I").stdout.split()[0]


@pytest.mark.control("MON-01")
def test_prometheus_scrapes_every_exporter_of_both_hosts(edge):
    expected = {(job, name) for name in (edge.mail.name, edge.partner.name) for job in EXPORTERS.values()}

    def targets():
        active = api(edge.mail.host, "/api/v1/targets?state=active")["activeTargets"]
        seen = {(t["labels"]["job"], t["labels"].get("host")): t["health"] for t in active}
        return seen if all(seen.get(key) == "up" for key in expected) else None

    seen = poll(f"every exporter up ({sorted(expected)})", targets, timeout=90)
    assert expected <= set(seen), seen
    # the Postfix exporter reads the queue (showq): the deferred queue is a series it reports
    metrics = fetch(edge.mail.host, f"http://{address(edge.mail.host)}:9154/metrics")
    assert 'postfix_showq_message_age_seconds_count{queue="deferred"}' in metrics
    assert 'postfix_up{path="/var/spool/postfix/public/showq"} 1' in metrics
    # Dovecot's own OpenMetrics (2.4, the recommended backend metrics): its authentications
    dovecot = fetch(edge.mail.host, f"http://{address(edge.mail.host)}:9900/metrics")
    assert "dovecot_auth_successes_total" in dovecot and "dovecot_auth_failures_total" in dovecot, dovecot[:2000]
    # its log counters move (it reads /var/log/mail.log): at least mail-metrics' own STARTTLS probes of 25
    connects = [line for line in metrics.splitlines() if line.startswith("postfix_smtpd_connects_total ")]
    assert connects and float(connects[0].split()[1]) > 0, connects


@pytest.mark.control("MON-02")
def test_the_node_exporter_reports_the_mail_units_and_mail_metrics(edge):
    # a run of mail-metrics now (a oneshot: start returns when it has written its file), not the one
    # the timer made during the converge, while the services' restarts were still pending
    run = edge.mail.host.run("systemctl start mail-metrics.service")
    assert run.rc == 0, run.stderr
    metrics = fetch(edge.mail.host, f"http://{address(edge.mail.host)}:9100/metrics")
    for unit in ("postfix.service", "dovecot.service", "clamav-daemon.service", "clamav-milter.service",
                 "opendkim.service", "opendmarc.service", "fail2ban.service", "postfix-ratelimit.service"):
        assert f'node_systemd_unit_state{{name="{unit}",state="active",type=' in metrics, unit
    assert 'name="ssh.service"' not in metrics  # only the mail units
    assert 'name="postfix@-.service"' not in metrics  # Debian 13 runs Postfix as postfix.service
    lines = dict(line.rsplit(" ", 1) for line in metrics.splitlines() if line.startswith("mail_"))
    assert lines["mail_clamav_up"] == "1"  # clamd answered VERSION on its socket
    # the database date is VERSION's third field; the lab's local signatures (no daily database) carry none
    assert float(lines.get("mail_clamav_database_timestamp_seconds", "1")) > 0
    assert lines["mail_fail2ban_up"] == "1"
    assert any(k.startswith("mail_fail2ban_failed_total{jail=") for k in lines), lines
    broken = {k: v for k, v in lines.items() if k.startswith("mail_metrics_collector_ok") and v != "1"}
    assert not broken, broken
    # the certificate each TLS port shows is the host's, expiry as openssl reads it from the file
    end = edge.mail.host.run("openssl x509 -noout -enddate -in /etc/ssl/mail/fullchain.pem").stdout
    stamp = calendar_gm(end.strip().split("=", 1)[1])
    for port in (25, 465, 587, 143, 993, 4190, 443):
        assert float(lines[f'mail_tls_certificate_expiry_timestamp_seconds{{port="{port}"}}']) == stamp, port
    assert time.time() - float(lines["mail_metrics_last_run_timestamp_seconds"]) < 120


def calendar_gm(text: str) -> float:
    import calendar
    return float(calendar.timegm(time.strptime(" ".join(text.split()), "%b %d %H:%M:%S %Y %Z")))


@pytest.mark.control("MON-03")
def test_rules_are_loaded_and_pass_their_tests_and_a_broken_rule_fails(edge):
    groups = api(edge.mail.host, "/api/v1/rules")["groups"]
    names = [r["name"] for g in groups if g["name"] == "mail" for r in g["rules"]]
    assert names == ALERTS
    down = next(r for g in groups for r in g["rules"] if r["name"] == "MailServiceDown")
    assert down["duration"] == 10  # the lab's monitoring_service_down_for, not the rules file's own
    run = edge.mail.host.run(f"/usr/local/sbin/mail-rules-check {RULES}")
    assert run.rc == 0 and "SUCCESS" in run.stdout, run.stdout + run.stderr
    # the same check on a rules file whose deferred-queue threshold is wrong: that rule's test fails
    broken = edge.mail.host.run(f"python3 -c {shlex.quote(BREAK)} {RULES} /tmp/broken.rules.yml"
                                " && /usr/local/sbin/mail-rules-check /tmp/broken.rules.yml; rc=$?;"
                                " rm -f /tmp/broken.rules.yml; exit $rc")
    assert broken.rc != 0 and "MailQueueDeferred" in broken.stdout + broken.stderr, broken.stdout
    # and on one whose MailServiceDown has lost its masked-unit branch (a masked unit vanishes from
    # the node exporter: `systemctl mask` would silence the alert)
    unmasked = edge.mail.host.run(f"python3 -c {shlex.quote(UNMASK)} {RULES} /tmp/unmasked.rules.yml"
                                  " && /usr/local/sbin/mail-rules-check /tmp/unmasked.rules.yml; rc=$?;"
                                  " rm -f /tmp/unmasked.rules.yml; exit $rc")
    assert unmasked.rc != 0 and "MailServiceDown" in unmasked.stdout + unmasked.stderr, unmasked.stdout
    check = edge.mail.host.run("amtool check-config /etc/prometheus/alertmanager.yml")
    assert check.rc == 0 and "SUCCESS" in check.stdout, check.stdout + check.stderr
    alerts = api(edge.mail.host, "/api/v1/alerts")["alerts"]
    assert any(a["labels"]["alertname"] == "Watchdog" and a["state"] == "firing" for a in alerts)


PROBE = """import json, socket, sys  # each port at once, 3 s to answer
address = sys.argv[1]
""" + PORT_STATE + """
from concurrent.futures import ThreadPoolExecutor
with ThreadPoolExecutor(len(sys.argv) - 2) as pool:
    print(json.dumps(dict(zip(sys.argv[2:], pool.map(lambda p: state(int(p)), sys.argv[2:])))))
"""


@pytest.mark.control("MON-04")
def test_exporters_answer_the_monitor_host_only(edge):
    ours = address(edge.mail.host)
    # from the partner (an outside host to ours): no exporter, no Prometheus, no Alertmanager
    run = edge.partner.host.run(f"python3 -c {shlex.quote(PROBE)} {ours} 9100 9154 9900 9090 9093")
    assert run.rc == 0, run.stderr
    states = json.loads(run.stdout)
    assert all(state != "open" for state in states.values()), states
    # the monitor host (ours) reaches the partner's exporters through the partner's firewall
    partner = address(edge.partner.host)
    for port, job in EXPORTERS.items():
        assert "# TYPE" in fetch(edge.mail.host, f"http://{partner}:{port}/metrics"), job
    # and the partner's own ports 25 stay open to it: the probe above is not a blanket block
    assert json.loads(edge.partner.host.run(f"python3 -c {shlex.quote(PROBE)} {ours} 25").stdout)["25"] == "open"


def _notifications(edge):
    text = edge.dns.host.run(f"cat {WEBHOOK_LOG} 2>/dev/null").stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _service_alert(edge, status: str, since: str, unit: str = "clamav-daemon.service"):
    """The webhook's MailServiceDown alert for our `unit` in `status`, started at or after `since`."""
    return _alert(edge, "MailServiceDown", status, since, name=unit)


@pytest.mark.control("MON-05")
@pytest.mark.exclusive
@pytest.mark.parametrize("unit", ["clamav-daemon.service", "dovecot.service"], ids=["clamd", "dovecot"])
def test_a_stopped_mail_service_alert_reaches_the_webhook_and_resolves(edge, evidence, unit):
    """The scanner (mail is then deferred, 451) or the store (IMAP and SASL gone, LMTP deferred) stopped:
    MailServiceDown for that unit reaches the webhook; started again, it arrives resolved. The webhook, not
    the mail: an alert about the mail system cannot count on it (the alert mail itself is deferred)."""
    host = edge.mail.host
    # Prometheus' view of the unit is "up" before we stop it (no stale alert is mistaken for ours)
    query = "node_systemd_unit_state%7Bname%3D%22" + unit + "%22%2Cstate%3D%22active%22%7D"
    poll(f"{unit} active in Prometheus",
         lambda: [r for r in api(host, "/api/v1/query?query=" + query)["result"] if r["value"][1] == "1"], timeout=60)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    assert host.run(f"systemctl stop {unit}").rc == 0
    try:
        started = time.monotonic()
        firing = poll(f"MailServiceDown ({unit}) firing at the webhook",
                      lambda: _service_alert(edge, "firing", since, unit), timeout=150)
        fired_after = time.monotonic() - started
        assert firing["labels"]["severity"] == "critical"
    finally:
        assert host.run(f"systemctl start {unit}").rc == 0
    started = time.monotonic()
    resolved = poll(f"MailServiceDown ({unit}) resolved at the webhook",
                    lambda: _service_alert(edge, "resolved", since, unit), timeout=150)
    resolved_after = time.monotonic() - started
    assert resolved["endsAt"] >= firing["startsAt"]
    assert host.run(f"systemctl is-active {unit}").stdout.strip() == "active"
    evidence(f"{unit} stopped: MailServiceDown (critical) at the webhook after {fired_after:.0f} s; started: "
             f"resolved after {resolved_after:.0f} s")


def _alert(edge, alertname: str, status: str, since: str, **labels):
    """The webhook's `alertname` alert for our host in `status` with `labels`, started at or after `since`."""
    for note in _notifications(edge):
        for alert in note.get("alerts", []):
            got = alert["labels"]
            if (got.get("alertname") == alertname and got.get("host") == edge.mail.name and alert["status"] == status
                    and all(got.get(k) == v for k, v in labels.items()) and alert["startsAt"] >= since):
                return alert
    return None


HELD_TO = "hoatt@gialai.gov.vn"


@pytest.mark.control("MON-10")
@pytest.mark.exclusive
def test_a_message_left_on_hold_raises_its_alert_and_its_release_delivers_it(edge, evidence):
    """A message on hold (the lab: any, after 10 s; monitoring_queue_held_*): MailQueueHeld reaches the
    webhook; released (postsuper -H), it is delivered exactly once and the alert resolves. The message is
    held the way an administrator does it: taken from the queue while it waits (Dovecot's LMTP stopped for
    the moment it takes to defer it), then `postsuper -h`."""
    host = edge.mail.host
    message_id = f"<held-{int(time.time() * 1000)}@mail.gialai.gov.vn>"
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    assert host.run("systemctl stop dovecot").rc == 0
    try:
        sent = host.run(f"printf 'From: postmaster@gialai.gov.vn\\nTo: {HELD_TO}\\nSubject: held\\n"
                        f"Message-ID: {message_id}\\n\\nheld by the administrator\\n'"
                        f" | sendmail -f postmaster@gialai.gov.vn {HELD_TO}")
        assert sent.rc == 0, sent.stderr
        deferred = poll("the message deferred while LMTP is down", lambda: [
            m for m in postfix_queue(host) if m["queue_name"] == "deferred"
            and any(r["address"] == HELD_TO for r in m["recipients"])], timeout=60)
        queue_id = deferred[0]["queue_id"]
        assert host.run(f"postsuper -h {queue_id}").rc == 0
    finally:
        assert host.run("systemctl start dovecot").rc == 0
    try:
        assert [m["queue_name"] for m in postfix_queue(host) if m["queue_id"] == queue_id] == ["hold"]
        started = time.monotonic()
        firing = poll("MailQueueHeld firing at the webhook", lambda: _alert(edge, "MailQueueHeld", "firing", since),
                      timeout=150)
        fired_after = time.monotonic() - started
        assert firing["labels"]["severity"] == "warning"
        # still on hold, nothing delivered: hold means hold
        assert imap_wait_for(edge.mail.target, HELD_TO, edge.mail.password(HELD_TO), message_id, expect=0,
                             timeout=0) == []
    finally:
        host.run(f"postsuper -H {queue_id} && postqueue -i {queue_id}")
    delivered = imap_wait_for(edge.mail.target, HELD_TO, edge.mail.password(HELD_TO), message_id, timeout=120)
    assert len(delivered) == 1, f"{len(delivered)} copies delivered"
    resolved = poll("MailQueueHeld resolved at the webhook", lambda: _alert(edge, "MailQueueHeld", "resolved", since),
                    timeout=150)
    assert resolved["endsAt"] >= firing["startsAt"]
    evidence(f"message {queue_id} on hold: MailQueueHeld at the webhook after {fired_after:.0f} s, nothing delivered "
             f"while held; released: delivered once over IMAPS, the alert resolved (endsAt {resolved['endsAt']})")


STATUS = "/var/lib/mail-backup/status"  # the backup client's status files, which mail-metrics reads


def _alert_mails(edge, alertname: str) -> dict[str, email.message.Message]:
    """The postmaster's messages whose subject names `alertname`, by Message-ID, read over IMAPS."""
    found = {}
    with IMAPS(edge.mail.target) as imap:
        imap.login(POSTMASTER, edge.mail.password(POSTMASTER))
        imap.select("INBOX", readonly=True)
        typ, data = imap.search(None, "SUBJECT", alertname)
        for num in (data[0].split() if typ == "OK" and data and data[0] else []):
            _typ, parts = imap.fetch(num, "(BODY.PEEK[])")
            message = email.message_from_bytes(parts[0][1])
            found[message["Message-ID"]] = message
        imap.logout()
    return found


def _new_alert_mail(edge, alertname: str, status: str, before: dict):
    """A message to the postmaster not in `before` whose subject says `status` (FIRING, RESOLVED)."""
    for message_id, message in _alert_mails(edge, alertname).items():
        if message_id not in before and str(message["Subject"]).startswith(f"[{status}"):
            return message
    return None


@pytest.mark.control("MON-08")
@pytest.mark.control("MON-07")
@pytest.mark.exclusive
def test_a_backup_older_than_the_limit_raises_its_alert_and_a_good_one_resolves_it(edge, evidence):
    """The backup client's status says the last good backup to `primary` is 27 h old (the limit is 26 h):
    MailBackupOld (critical) reaches the webhook (the lab shortens for: to 10 s through
    monitoring_backup_for) and the postmaster's mailbox (MON-07: Alertmanager's mail, sent on submission
    with the alert account's login); a good backup now resolves it, at the webhook and by mail. The status
    is written as the client writes it (the edge lab has no backup host) and read by mail-metrics as its
    timer runs it."""
    host = edge.mail.host
    assert not host.file(STATUS).exists, "the edge lab has no backup client: the test's status would replace one"
    before = _alert_mails(edge, "MailBackupOld")
    now = int(time.time())
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 1))

    def status(backup_ok: int) -> None:
        written = host.run(f"install -d -m 0700 {STATUS} && echo primary > {STATUS}/repositories"
                           f" && echo {backup_ok} > {STATUS}/primary.backup-ok && echo {now - 3600} > {STATUS}/primary.check-ok"
                           " && systemctl start mail-metrics.service")
        assert written.rc == 0, written.stderr

    try:
        status(now - 27 * 3600)
        started = time.monotonic()
        firing = poll("MailBackupOld (primary) firing at the webhook",
                      lambda: _alert(edge, "MailBackupOld", "firing", since, repository="primary"), timeout=150)
        fired_after = time.monotonic() - started
        assert firing["labels"]["severity"] == "critical"
        # the same notification by mail: in the postmaster's mailbox, from the alert account
        mailed = poll("MailBackupOld firing in the postmaster's mailbox",
                      lambda: _new_alert_mail(edge, "MailBackupOld", "FIRING", before), timeout=120)
        status(int(time.time()))
        resolved = poll("MailBackupOld (primary) resolved at the webhook",
                        lambda: _alert(edge, "MailBackupOld", "resolved", since, repository="primary"), timeout=150)
        mailed_resolved = poll("MailBackupOld resolved in the postmaster's mailbox",
                               lambda: _new_alert_mail(edge, "MailBackupOld", "RESOLVED", before), timeout=120)
    finally:
        host.run(f"rm -rf {STATUS} && systemctl start mail-metrics.service")
    account = edge.lab.alert_account
    for message in (mailed, mailed_resolved):
        assert email.utils.parseaddr(message["From"])[1] == account, message["From"]
        assert email.utils.parseaddr(message["To"])[1] == POSTMASTER, message["To"]
        assert "primary" in message.get_payload(decode=True).decode(errors="replace") if not message.is_multipart() \
            else any("primary" in part.get_payload(decode=True).decode(errors="replace")
                     for part in message.walk() if part.get_content_maintype() == "text")
    # Postfix's log: Alertmanager logged in on submission with the alert account, from the monitor
    # host's own address (not loopback: the store accepts that login from the monitor hosts only)
    log = host.run(f"grep -F 'sasl_username={account}' /var/log/mail.log").stdout
    assert f"[{address(host)}]" in log and "sasl_method=" in log, log[-2000:]
    evidence(f"last good backup 27 h old: MailBackupOld at the webhook after {fired_after:.0f} s and in "
             f"{POSTMASTER}'s mailbox over IMAPS ({mailed['Subject']!s}, from {account}, logged in on submission); "
             f"a good backup written: resolved at the webhook (endsAt {resolved['endsAt']}) and by mail "
             f"({mailed_resolved['Subject']!s})")


# Run on the partner (another host than the monitor): the alert account's right password on 587
# (after STARTTLS, AUTH PLAIN once) and over IMAPS, then an ordinary account's from the same place:
# one failure in each of fail2ban's jails, under its lab threshold (3). The passwords come on stdin.
# Prints {login: [smtp code, imap result]}.
FROM_ELSEWHERE = """import imaplib, json, smtplib, ssl, sys
host, logins = sys.argv[1], json.load(sys.stdin)
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
out = {}
for user, password in logins:
    with smtplib.SMTP(host, 587, timeout=60) as client:
        client.ehlo("mail.partner.example"); client.starttls(context=ctx); client.ehlo("mail.partner.example")
        client.user, client.password = user, password
        try:  # AUTH PLAIN once (login() would try LOGIN after it: two failures)
            code = client.auth("PLAIN", client.auth_plain, initial_response_ok=True)[0]
        except smtplib.SMTPAuthenticationError as error:
            code = error.smtp_code
    try:
        imap = imaplib.IMAP4_SSL(host, 993, ssl_context=ctx, timeout=60)
        imap.login(user, password); imap.logout(); result = "OK"
    except imaplib.IMAP4.error as error:
        result = str(error)
    out[user] = [code, result]
print(json.dumps(out))
"""


@pytest.mark.control("MON-07")
def test_the_alert_login_is_refused_from_anywhere_but_the_monitor_host(edge, evidence):
    """A stolen alert password is worth nothing elsewhere: from the partner (not a monitor host) the alert
    account's right password is refused on submission (535) and over IMAPS, while an ordinary account logs
    in from the same host (the refusal is the account's, not the place's)."""
    account, other = edge.lab.alert_account, "hoatt@gialai.gov.vn"
    logins = [[account, edge.mail.password(account)], [other, edge.mail.password(other)]]
    run = subprocess.run(["podman", "exec", "-i", edge.partner.name, "python3", "-c", FROM_ELSEWHERE,
                          address(edge.mail.host)], input=json.dumps(logins), capture_output=True, text=True,
                         timeout=300, env={**os.environ, **podman_env()})
    forget(edge.mail.host, address(edge.partner.host))  # the two failures are the test's, not an attack
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got[other] == [235, "OK"], got
    assert got[account][0] == 535, got
    assert "AUTHENTICATIONFAILED" in got[account][1] or "failed" in got[account][1].lower(), got
    evidence(f"from the partner: {account} with its right password -> SMTP {got[account][0]}, IMAP "
             f"{got[account][1]!r}; {other} -> SMTP {got[other][0]}, IMAP {got[other][1]}")



# Run on the monitor host: `n` AUTH PLAIN attempts with a wrong password on its MX's submission port
# (its own address here: the lab's monitor host is the mail host), as Alertmanager's login fails while
# Dovecot is down; then whether a new connection still gets the banner. Prints [codes, banner code].
MONITOR_FAILS = """import json, smtplib, ssl, sys
host, user, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
codes = []
for _ in range(n):
    with smtplib.SMTP(host, 587, timeout=60) as client:
        client.ehlo("mail.gialai.gov.vn"); client.starttls(context=ctx); client.ehlo("mail.gialai.gov.vn")
        client.user, client.password = user, "not-the-password"
        try:
            codes.append(client.auth("PLAIN", client.auth_plain, initial_response_ok=True)[0])
        except smtplib.SMTPAuthenticationError as error:
            codes.append(error.smtp_code)
with smtplib.SMTP(host, 587, timeout=30) as client:
    banner = client.noop()[0]
print(json.dumps([codes, banner]))
"""


@pytest.mark.control("MON-09")
def test_the_monitor_host_is_never_banned_for_failed_alert_logins(edge, evidence):
    """fail2ban's SASL jail on the MX ignores every monitor host's address (fail2ban_ignore_source_groups:
    mail_monitor, as the running daemon lists it), and more failed logins from the monitor host than the
    threshold (the lab's 3) get no ban and a new connection is served: an alert after Dovecot's outage is
    not kept out by a ban. (The lab's monitor host is the mail host itself, which fail2ban's ignoreself
    also spares: the daemon's ignore list is what shows the exemption holds for a monitor host of its own.)"""
    host = edge.mail.host
    ours = address(host)
    for jail in ("postfix-sasl", "dovecot"):
        listed = host.run(f"fail2ban-client get {jail} ignoreip").stdout
        assert re.search(rf"^\W*{re.escape(ours)}$", listed, re.M), f"{jail} does not ignore {ours}: {listed[-1500:]}"
    mark = host.run("wc -l < /var/log/fail2ban.log").stdout.strip() or "0"
    run = host.run(f"python3 -c {shlex.quote(MONITOR_FAILS)} {ours} {edge.lab.alert_account} 4")
    assert run.rc == 0, run.stderr
    codes, banner = json.loads(run.stdout)
    assert codes == [535] * 4 and banner == 250, (codes, banner)

    def ignored():
        log = host.run(f"tail -n +{int(mark) + 1} /var/log/fail2ban.log").stdout
        return log if log.count(f"[postfix-sasl] Ignore {ours} by") >= 4 else None

    log = poll("fail2ban ignoring the monitor host's four failures", ignored, timeout=60)
    assert f"Ban {ours}" not in log and f"Found {ours}" not in log, log[-2000:]
    banned = host.run("fail2ban-client banned").stdout
    assert ours not in banned, banned
    evidence(f"fail2ban's postfix-sasl and dovecot jails list the monitor host {ours} as ignored; 4 failed AUTH "
             f"PLAIN from it (threshold 3): each 535, each ignored, no ban, a new connection served (NOOP {banner})")


def _active(edge, alertname: str) -> list[dict]:
    """Prometheus' `alertname` alerts for our host, pending or firing, as the monitor host sees them now."""
    return [a for a in api(edge.mail.host, "/api/v1/alerts")["alerts"]
            if a["labels"]["alertname"] == alertname and a["labels"].get("host") == edge.mail.name]


CERT_FILES = ("cert.pem", "fullchain.pem")  # what the TLS services serve (tls role)
CERT_PORTS = ("25", "465", "587", "993", "443")  # among those mail-metrics reads, one per service


@pytest.mark.control("MON-11")
@pytest.mark.exclusive
def test_a_certificate_within_the_window_raises_its_alert_and_a_good_one_resolves_it(edge, evidence, tmp_path):
    """Our host serves a certificate of the lab CA that expires in 10 days (the window is 21), as when a
    renewal was missed: MailCertificateExpiring reaches the webhook for its TLS ports (the lab shortens
    for: to 10 s through monitoring_cert_for); the host's own certificate served again (what a renewal
    does, which TLS-05 proves of a converge) resolves it. mail-metrics reads each port's certificate as
    its timer runs it."""
    host = edge.mail.host
    assert not _active(edge, "MailCertificateExpiring"), "the alert is active before the test"
    short = short_lived_certificate(host, TLS_DIR, edge.lab.hostname, tmp_path, 10)
    keep = " && ".join(f"cp -a {TLS_DIR}/{name} /root/{name}.keep" for name in CERT_FILES)
    assert host.run(keep).rc == 0
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    reload = "systemctl reload postfix dovecot nginx && systemctl start mail-metrics.service"
    try:
        for name in CERT_FILES:
            put = host.run(f"printf %s {shlex.quote(short)} > {TLS_DIR}/{name}")
            assert put.rc == 0, put.stderr
        assert host.run(reload).rc == 0
        started = time.monotonic()
        firing = {port: poll(f"MailCertificateExpiring (port {port}) firing at the webhook",
                             lambda port=port: _alert(edge, "MailCertificateExpiring", "firing", since, port=port),
                             timeout=150) for port in CERT_PORTS}
        fired_after = time.monotonic() - started
        assert {a["labels"]["severity"] for a in firing.values()} == {"warning"}
    finally:
        back = " && ".join(f"cp -a /root/{name}.keep {TLS_DIR}/{name} && rm /root/{name}.keep" for name in CERT_FILES)
        assert host.run(f"{back} && {reload}").rc == 0
    started = time.monotonic()
    for port in CERT_PORTS:
        resolved = poll(f"MailCertificateExpiring (port {port}) resolved at the webhook",
                        lambda port=port: _alert(edge, "MailCertificateExpiring", "resolved", since, port=port),
                        timeout=150)
        assert resolved["endsAt"] >= firing[port]["startsAt"]
    resolved_after = time.monotonic() - started
    poll("no MailCertificateExpiring left in Prometheus", lambda: not _active(edge, "MailCertificateExpiring"),
         timeout=60)
    evidence(f"a 10-day certificate of the lab CA served: MailCertificateExpiring (warning) at the webhook for ports "
             f"{', '.join(CERT_PORTS)} after {fired_after:.0f} s; the host's certificate served again: every one "
             f"resolved after {resolved_after:.0f} s")


AUTH_FAILURES_MAX = 8  # monitoring_auth_failures_max of our host (group_vars/edge_mail)


@pytest.mark.control("MON-12")
@pytest.mark.exclusive
def test_a_burst_of_failed_logins_raises_its_alert_and_it_resolves(edge, evidence):
    """One more failed login than the threshold (the scenario's 8 in 90 seconds) from a device of an agency (one
    address behind NAT, whose own ban threshold, 10, is not reached: the alert is what tells of it):
    MailAuthFailures reaches the webhook once mail-metrics reports fail2ban's counts; with no more
    failures it resolves when they leave the window."""
    host = edge.mail.host
    # an earlier test's failures (the webmail's bans) have left the window: the alert we wait for is ours
    poll("no MailAuthFailures for our host before the burst", lambda: not _active(edge, "MailAuthFailures"),
         timeout=180, step=5)
    ip = agency_address(edge.mail, 0)
    tries = AUTH_FAILURES_MAX + 1
    before = failed_total(host)
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 1))
    try:
        got = run_client(container_network(edge.mail.name), WRONG_IMAP % {
            "address": edge.mail.target.address, "user": "locnv@gialai.gov.vn", "tries": tries}, ip=ip)
        assert got["ip"] == ip and got["replies"] == ["NO"] * tries, got

        def new_failures():
            new = failed_total(host) - before
            return new if new >= tries else None

        counted = poll(f"fail2ban counting the {tries} failures", new_failures, timeout=60)
        assert host.run("systemctl start mail-metrics.service").rc == 0
        started = time.monotonic()
        firing = poll("MailAuthFailures firing at the webhook",
                      lambda: _alert(edge, "MailAuthFailures", "firing", since), timeout=120)
        fired_after = time.monotonic() - started
        assert firing["labels"]["severity"] == "warning"
        assert ip not in host.run("fail2ban-client banned").stdout  # under the agency's threshold: no ban
    finally:
        forget(host, ip)
    started = time.monotonic()
    resolved = poll("MailAuthFailures resolved at the webhook",
                    lambda: _alert(edge, "MailAuthFailures", "resolved", since), timeout=240, step=5)
    resolved_after = time.monotonic() - started
    assert resolved["endsAt"] >= firing["startsAt"]
    evidence(f"{tries} failed IMAP logins from the agency address {ip} (fail2ban counted {counted}, no ban): "
             f"MailAuthFailures (warning) at the webhook after {fired_after:.0f} s; no more failures: resolved "
             f"after {resolved_after:.0f} s")
