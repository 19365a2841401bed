"""The monitoring and metrics input is checked before any host changes (roles/monitoring and
roles/metrics tasks/validate.yml)."""

from __future__ import annotations

import pytest

from tests.helpers.preflight import stopped_before_any_host

MONITOR_HOST = ("mail_mx", "mail_store", "mail_monitor")


@pytest.mark.control("MON-03")
def test_a_warning_after_the_critical_signature_age_is_refused(run_site):
    out = stopped_before_any_host(run_site({"monitoring_signature_warn_hours": 72}, groups=MONITOR_HOST))
    assert "monitoring: need 0 < signature warn (72 h) < crit (48 h)" in out, out[-3000:]


def test_an_alert_duration_that_is_not_seconds_is_refused(run_site):
    """The rules and their tests compute with seconds: a Prometheus duration is refused by the argument spec."""
    out = stopped_before_any_host(run_site({"monitoring_service_down_for": "2m"}, groups=MONITOR_HOST))
    assert "argument 'monitoring_service_down_for' is of type str and we were unable to convert to int" in out, \
        out[-3000:]


def test_a_negative_alert_duration_is_refused(run_site):
    out = stopped_before_any_host(run_site({"monitoring_cert_for": -5}, groups=MONITOR_HOST))
    assert "monitoring: every *_for is a number of seconds >= 0" in out, out[-3000:]


def test_a_metrics_unit_that_is_not_a_unit_name_is_refused(run_site):
    out = stopped_before_any_host(run_site({"metrics_systemd_units": ["dovecot.service", "dove cot"]},
                                           groups=MONITOR_HOST))
    assert "metrics_systemd_units: not a unit name (name.service, .timer or .socket): ['dove cot']" in out, out[-3000:]


@pytest.mark.control("MON-03")
def test_a_smarthost_ca_that_carries_a_private_key_is_refused(run_site):
    """The CA Alertmanager verifies the smarthost with is written on the monitor host: never a key."""
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n"
    out = stopped_before_any_host(run_site({"monitoring_smtp_tls_ca_pem": pem}, groups=MONITOR_HOST))
    assert ("monitoring_smtp_tls_ca_pem must be a CA certificate (PEM, no private key) and "
            "monitoring_smtp_tls_ca_file an absolute path to write it to") in out, out[-3000:]
    assert "MIIE" not in out, "the key's text is printed"


@pytest.mark.control("MON-07")
@pytest.mark.parametrize("account, problem", [
    ("nobody@gialai.gov.vn", "not an account of the directory (mail_agencies or mail_accounts)"),
    ("tamlt@gialai.gov.vn", "cannot log in (state suspended)"),
], ids=["unknown", "suspended"])
def test_an_alert_account_that_cannot_log_in_is_refused(run_site, account, problem):
    """Alertmanager logs in on submission with mail_alert_account: an account it cannot log in as would
    leave the alerts unsent, so the preflight names it and why."""
    out = stopped_before_any_host(run_site({"mail_alert_account": account}, groups=MONITOR_HOST))
    assert f'mail_alert_account "{account}": {problem}' in out, out[-3000:]
