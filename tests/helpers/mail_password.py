"""Talk to a store's mail-password (roles/dovecot) as Roundcube's poppassd driver does.

The conversation runs on the host itself (mail-password listens on 127.0.0.1 only),
through the testinfra host: the banner, then ``user``, ``pass`` and ``newpass``, each
sent only while the server answers 2xx/3xx. Returns every line the server said.
The passwords travel base64-encoded in the command (lab accounts only).
"""

from __future__ import annotations

import base64
import json

PORT = 106

_CONVERSATION = r"""
import base64, json, socket, sys
user, old, new = (base64.b64decode(a).decode() for a in sys.argv[1:4])
s = socket.create_connection(("127.0.0.1", int(sys.argv[4])), timeout=30)
f = s.makefile("rwb")
said = [f.readline().decode().strip()]
for line in ("user " + user, "pass " + old, "newpass " + new):
    if not said[-1].startswith(("2", "3")):
        break
    f.write(line.encode() + b"\r\n"); f.flush()
    said.append(f.readline().decode().strip())
print(json.dumps(said))
"""


def change_password(host, user: str, old: str, new: str, port: int = PORT) -> list[str]:
    """What mail-password said, line by line; the last is its verdict (``200 ...`` or ``500 reason``)."""
    args = " ".join(base64.b64encode(a.encode()).decode() for a in (user, old, new))
    script = base64.b64encode(_CONVERSATION.encode()).decode()
    run = host.run(f"python3 -c \"$(echo {script} | base64 -d)\" {args} {port}")
    assert run.rc == 0, run.stderr
    return json.loads(run.stdout)
