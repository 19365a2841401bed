"""R4, read-only: clamd and clamav-milter run, are enabled and restart when they die; the
milter answers on the loopback only, clamd on its socket only."""

from __future__ import annotations

import pytest

# clamd runs on mail_mx hosts (unless pointed at a mail_av host) and on mail_av hosts
# (tests/audit/conftest.py); test_host.py checks the same units are running and enabled (CFG-03).
pytestmark = pytest.mark.mail_groups("mail_mx", "mail_av")


@pytest.mark.control("AV-05")
def test_services_run_and_restart_when_they_die(mail):
    for unit in ("clamav-daemon.service", "clamav-daemon.socket", "clamav-milter.service"):
        svc = mail.host.service(unit)
        assert svc.is_running and svc.is_enabled, unit
    for unit in ("clamav-daemon", "clamav-milter"):
        assert mail.host.run(f"systemctl show -p Restart --value {unit}").stdout.strip() == "on-failure"
    # The milter answers on the loopback only; clamd only on its socket (clamav group).
    assert mail.host.socket("tcp://127.0.0.1:7357").is_listening
    assert not mail.host.socket("tcp://0.0.0.0:7357").is_listening
    sock = mail.host.file("/run/clamav/clamd.ctl")
    assert sock.is_socket and sock.mode == 0o660 and sock.group == "clamav"
