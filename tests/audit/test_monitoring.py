"""Monitoring of deployed hosts, read-only (roles/metrics, roles/monitoring), checked on each
mail_monitor host: Alertmanager is ready; Prometheus has the mail rules loaded (every rule of
roles/monitoring, in order); every scrape target (each mail host's node exporter and, where
Postfix runs, its Postfix exporter) is up, so the exporters answer the monitor host; the
always-firing Watchdog fires (the pipeline is alive); and from this controller (an
administrator, not a monitor host) none of those exporters answers.

The lab proves these checks on the edge scenario's mail host, which is also its monitor host
(molecule/edge/tests/test_audit_monitoring.py). A host not in mail_monitor skips (the
catalogue declares MON-01, MON-03 and MON-04 not applicable there).
"""

from __future__ import annotations

import json
import shlex
import time

import pytest

from tests.helpers.mailclient import answers

# The rules of roles/monitoring's rules file, in its order (molecule/edge/tests/test_monitoring.py too).
ALERTS = ["MailServiceDown", "MailExporterDown", "MailQueueDeferred", "MailQueueHeld", "MailSignaturesOld",
          "MailSignaturesTooOld",
          "MailBackupOld", "MailBackupCheckFailed", "MailCertificateExpiring", "MailDiskFull", "MailDiskFilling",
          "MailAuthFailures", "MailTextfileStale", "MailTextfileBroken", "Watchdog"]
PROMETHEUS = "http://127.0.0.1:9090"  # monitoring_prometheus_listen (loopback of the monitor host)
ALERTMANAGER = "http://127.0.0.1:9093"
FETCH = ("import sys, urllib.request\n"
         "r = urllib.request.urlopen(sys.argv[1], timeout=20)\n"
         "print(r.status); print(r.read().decode())")


def _get(host, url: str) -> tuple[int, str]:
    """GET url from inside the host (read-only): status and body."""
    run = host.run(f"python3 -c {shlex.quote(FETCH)} {shlex.quote(url)}")
    assert run.rc == 0, f"{url}: {run.stderr[-1000:]}"
    status, _, body = run.stdout.partition("\n")
    return int(status), body


def _api(host, path: str):
    status, body = _get(host, PROMETHEUS + path)
    data = json.loads(body)
    assert status == 200 and data["status"] == "success", body[:500]
    return data["data"]


@pytest.fixture
def monitor(mail):
    if "mail_monitor" not in mail.groups:
        pytest.skip("not a mail_monitor host")
    return mail


@pytest.mark.control("MON-01", "MON-03", "MON-04")
def test_the_monitor_host_has_the_rules_loaded_and_every_exporter_up(monitor, evidence):
    host = monitor.host
    status, _ = _get(host, ALERTMANAGER + "/-/ready")
    assert status == 200
    groups = _api(host, "/api/v1/rules")["groups"]
    names = [r["name"] for g in groups if g["name"] == "mail" for r in g["rules"]]
    assert names == ALERTS, names
    # every target up; one not scraped yet ("unknown": Prometheus just started) gets a bounded wait
    deadline = time.monotonic() + 60
    while True:
        targets = _api(host, "/api/v1/targets?state=active")["activeTargets"]
        down = [(t["labels"].get("job"), t["labels"].get("host"), t["health"], t.get("lastError"))
                for t in targets if t["health"] != "up"]
        if (targets and not down) or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert targets and not down, down
    assert {t["labels"].get("job") for t in targets} >= {"node"}, targets
    alerts = _api(host, "/api/v1/alerts")["alerts"]
    assert any(a["labels"]["alertname"] == "Watchdog" and a["state"] == "firing" for a in alerts), alerts
    # the same exporters from this controller (an administrator, not a monitor host): no answer
    scraped = sorted({t["labels"]["instance"] for t in targets if not _split(t["labels"]["instance"])[0].startswith(
        ("127.", "::1", "localhost"))})  # Prometheus' own loopback job is nothing to probe from here
    open_here = [instance for instance in scraped if answers(*_split(instance))]
    assert open_here == [], f"exporters answer this controller: {open_here} (only the monitor hosts may reach them)"
    evidence(f"Alertmanager ready; Prometheus: the {len(names)} mail rules loaded, {len(targets)} targets all up "
             f"({sorted({(t['labels'].get('job'), t['labels'].get('host')) for t in targets})}), Watchdog firing; "
             f"from the controller none of {scraped} answers")


def _split(instance: str) -> tuple[str, int]:
    """'10.0.0.5:9100' or '[2001:db8::5]:9100' -> (address, port)."""
    address, _, port = instance.rpartition(":")
    return address.strip("[]"), int(port)
