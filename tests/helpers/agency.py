"""Agencies behind one NAT (issue 16) as the tests make them: a client container pinned to an
address of the lab's agency network (inventories/lab lab.yml, mail_agency_networks: the top /28
of every podman network) is a device of that agency; fail2ban counts its failures against the
agencies' own threshold (fail2ban_agency_maxretry), not the per-address one.

`mail` below is any host record with `.host` (testinfra) and `.target.address` (its address on
the lab network).
"""

from __future__ import annotations

import ipaddress
import random

from .fail2ban import quiet_address

# mail_agency_networks there: the top /28 of every lab network (10.89.N.240/28), as an offset in the /24
AGENCY_NETWORK = ipaddress.ip_network("0.0.0.240/28")

PREAMBLE = """
import imaplib, json, smtplib, socket, ssl, threading
address = %(address)r
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); me.connect((address, 9)); ip = me.getsockname()[0]
"""

# One user with a wrong password on several devices at once (a phone, a laptop...):
# concurrent, so Dovecot's per-address auth penalty does not serialise them.
WRONG_IMAP = PREAMBLE + """
replies = [None] * %(tries)d
def fail(i):
    try:
        c = imaplib.IMAP4_SSL(address, 993, ssl_context=ctx, timeout=60)
        try:
            c.login(%(user)r, "old-password-%%d" %% i); replies[i] = "accepted"
        except imaplib.IMAP4.error:
            replies[i] = "NO"
        finally:
            try: c.logout()
            except Exception: pass
    except OSError as e:
        replies[i] = "error:%%s" %% e
threads = [threading.Thread(target=fail, args=(i,)) for i in range(%(tries)d)]
[t.start() for t in threads]; [t.join(90) for t in threads]
print(json.dumps({"ip": ip, "replies": replies}))
"""


def agency_network(mail) -> ipaddress.IPv4Network:
    """The lab agency network on the mail host's podman network (AGENCY_NETWORK of its /24)."""
    lan = ipaddress.ip_network(f"{mail.target.address}/24", strict=False)
    first = lan.network_address + int(AGENCY_NETWORK.network_address)
    return ipaddress.ip_network(f"{first}/{AGENCY_NETWORK.prefixlen}")


def agency_address(mail, slot: int) -> str:
    """An address of the agency network that fail2ban counted no failure against within findtime
    (tests/helpers/fail2ban.py quiet_address), drawn at random among the quiet ones.

    Never .254, the administrators' workstation that test_fail2ban's F2B-04 client takes, and
    each test (`slot` 0 or 1) draws from its own half: the tests run on two workers, and two
    clients asking podman for one address fail ("IPAM error: requested ip address ... is
    already allocated"), as F2B-04 once did beside SMTP-18.
    """
    hosts = [str(h) for h in list(agency_network(mail).hosts())[:-1]]  # .241-.253
    half = len(hosts) // 2
    mine = hosts[:half] if slot == 0 else hosts[half:]
    random.shuffle(mine)
    # Failures below a ban stay counted for findtime (no command clears them): an address the
    # jails counted nothing against in that window, so a run shortly after another starts clean.
    findtime = int(mail.host.run("fail2ban-client get dovecot-agency findtime").stdout.strip() or 600)
    return quiet_address(mail.host, mine, findtime + 60)
