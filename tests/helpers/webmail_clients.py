"""Webmail clients in throw-away containers: an attacker who fails logins, a user elsewhere.

Each runs tests/helpers/webmail.py (stdlib only, copied in with the lab CA) inside a
fresh client container on the mail host's network (tests/helpers/outside.py run_client),
so the server sees an address of its own, and prints one JSON object.
"""

from __future__ import annotations

import pathlib
import uuid

from .lab import ROOT
from .outside import PORT_STATE, run_client

FAILED_LOGINS = """
import json, socket, ssl, sys, time
sys.path.insert(0, "/w")
from webmail import Browser
address, hostname, user, tries, token, ports = %(address)r, %(hostname)r, %(user)r, %(tries)d, %(token)r, %(ports)r
ctx = ssl.create_default_context(cafile="/w/ca.pem")
%(state)s
replies = []
for i in range(tries):
    try:
        a = Browser(address, hostname, ctx).login(user, "sai-mat-khau-%%d-%%s" %% (i, token))
        replies.append("logged-in" if a.status == 302 else "refused-%%d" %% a.status)
    except OSError as e:
        replies.append("error:%%s" %% e)
deadline = time.time() + 60
while time.time() < deadline and state(443) == "open":
    time.sleep(0.5)
me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); me.connect((address, 9)); ip = me.getsockname()[0]
print(json.dumps({"ip": ip, "replies": replies, "after": {p: state(p) for p in ports}}))
"""

LOGIN = """
import json, socket, ssl, sys, time
sys.path.insert(0, "/w")
from webmail import Browser, logged_in
address, hostname, user, password = %(address)r, %(hostname)r, %(user)r, %(password)r
ctx = ssl.create_default_context(cafile="/w/ca.pem")
b = Browser(address, hostname, ctx)
start = time.monotonic()
answer = b.login(user, password)
inbox = b.get("/?_task=mail&_mbox=INBOX")
took = time.monotonic() - start
me = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); me.connect((address, 9)); ip = me.getsockname()[0]
print(json.dumps({"ip": ip, "login": answer.status, "inbox": logged_in(inbox.body), "seconds": round(took, 1)}))
"""


def client_volume(target, tmp_path: pathlib.Path) -> str:
    """The stdlib webmail client and the CA of `target`, as a podman -v spec for a client's /w."""
    w = tmp_path / "w"
    w.mkdir(exist_ok=True)
    (w / "webmail.py").write_text((ROOT / "tests" / "helpers" / "webmail.py").read_text())
    (w / "ca.pem").write_text(pathlib.Path(target.cafile).read_text())
    return f"{w}:/w:ro"


def failed_logins(network: str, volume: str, target, user: str, tries: int, ports=(443,)) -> dict:
    """`tries` wrong passwords for `user` from a new client, then (up to 60 s) until 443 is no
    longer open to it. {"ip": its address, "replies": per try "refused-<status>", "logged-in" or
    "error:...", "after": {port: "open" | "refused" | "filtered"} for `ports`}."""
    result = run_client(network, timeout=240, volumes=(volume,), script=FAILED_LOGINS % {
        "state": PORT_STATE, "address": target.address, "hostname": target.hostname, "user": user,
        "tries": tries, "token": uuid.uuid4().hex[:8], "ports": tuple(ports)})
    result["after"] = {int(port): state for port, state in result["after"].items()}  # JSON keys are text
    return result


def login_from_elsewhere(network: str, volume: str, target, user: str, password: str) -> dict:
    """One webmail login from a new client, then its inbox. {"ip", "login": the status of the
    login's answer, "inbox": whether the inbox page is a logged-in page, "seconds"}."""
    return run_client(network, timeout=240, volumes=(volume,), script=LOGIN % {
        "address": target.address, "hostname": target.hostname, "user": user, "password": password})
