"""ssh-audit 3.9.0, one scan, two JSON lines: the audit report, then the policy verdict.

Run with ssh-audit's own interpreter (.venv-ssh-audit/bin/python3) and ssh-audit's
arguments, including `-j` and `-P <policy>`. In policy mode ssh-audit prints only the
verdict, which cannot show that the scan saw the server's algorithms; a second scan
would double the cost. This prints the standard audit report (kex, key, enc, mac
sections) of the same handshake before the verdict. Written for ssh-audit 3.9.0
(scripts/setup.sh pins it): if its internals move, this fails loudly, never silently.
"""

import sys

from ssh_audit import ssh_audit as sa

_evaluate_policy = sa.evaluate_policy


def _report_then_evaluate(out, aconf, banner, client_host, kex=None):
    policy, aconf.policy = aconf.policy, None
    try:
        sa.output(out, aconf, banner, [], client_host=None, kex=kex)
    finally:
        aconf.policy = policy
    return _evaluate_policy(out, aconf, banner, client_host, kex=kex)


if __name__ == "__main__":
    if "-j" not in sys.argv or "-P" not in sys.argv:
        sys.exit("usage: ssh_audit_both.py -j -P <policy> [ssh-audit options] host")
    sa.evaluate_policy = _report_then_evaluate
    sys.exit(sa.main())
