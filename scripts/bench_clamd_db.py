#!/usr/bin/env python3
"""clamd's start time and memory with a signature database the size of the official one.

    scripts/bench_clamd_db.py [--hdb 8000000] [--ndb 200000] [--image localhost/debian13-mail:latest]

The official database (main + daily + bytecode: about 8.7 million signatures in 2025-2026,
most of them hashes of files) cannot be downloaded here: the ClamAV mirror is unreachable.
So this builds one of the same size locally, in a scratch directory, with the generator the
edge scenario's test also uses (tests/helpers/clamav_db.py): --hdb generated MD5 file hashes
(bench.hdb) and --ndb generated body signatures (bench.ndb), plus the lab's EICAR signatures.
It starts clamd on it in a throw-away container of the lab image
(the roles' packages, no configuration: scripts/build-images.sh trixie-mail), with its own
clamd.conf and socket, and prints:

- the signatures clamd says it loaded, and the size of the database files;
- load seconds: from clamd's start until its socket answers PING;
- clamd's resident memory once loaded (VmRSS) and its peak while loading (VmHWM);
- that the loaded database still finds EICAR (INSTREAM), so the figures are of a working clamd.

Read the figures as a lower bound for the official database (whose own clamd reports
~1-1.5 GB, roles/clamav/defaults): see tests/helpers/clamav_db.py.
The container and the scratch directory are removed afterwards, whatever happens.

Prints figures and asserts nothing. scripts/bench.sh (make bench, the full form only) runs
it. The edge scenario's test_clamd_official_size.py loads the same database into its mail
host's own clamd (the role's configuration) and checks that it serves.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import clamav_db  # noqa: E402

LAB_SIGNATURES = ROOT / "inventories" / "lab" / "files" / "clamav"
DB = "/var/lib/clamav-bench"

# Runs inside the container: starts clamd, polls its socket, reads its memory, scans EICAR.
PROBE = clamav_db.CLAMD_CLIENT + r"""
import json, os, re, subprocess, sys, time
timeout = float(sys.argv[1])
conf = "/run/clamd-bench.conf"
sock = "/run/clamd-bench.ctl"
log = "/run/clamd-bench.log"
with open(conf, "w") as f:
    f.write(f"DatabaseDirectory {sys.argv[2]}\nLocalSocket {sock}\nForeground yes\nLogFile {log}\n"
            "LogTime yes\nUser root\nMaxThreads 2\n")

start = time.monotonic()
# its output to a file: a pipe nobody reads would fill up with clamd's warnings and stop it
err = open("/run/clamd-bench.err", "w+")
clamd = subprocess.Popen(["clamd", "-c", conf], stdout=err, stderr=subprocess.STDOUT)
peak = 0
while True:
    try:
        status = open(f"/proc/{clamd.pid}/status").read()
        peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
    except (OSError, AttributeError):
        pass
    try:
        if ask(sock, b"zPING\0") == "PONG":
            break
    except OSError:
        pass
    if os.path.getsize("/run/clamd-bench.err") > 50_000_000:  # a flood of errors: stop it
        clamd.kill()
        err.seek(0)
        sys.exit("clamd floods its output with errors: " + err.read(2000))
    if clamd.poll() is not None:
        err.seek(0)
        sys.exit("clamd exited: " + err.read()[-2000:])
    if time.monotonic() - start > timeout:
        clamd.kill()
        sys.exit(f"clamd did not answer PING within {timeout:.0f} s")
    time.sleep(0.2)
loaded = time.monotonic() - start
status = open(f"/proc/{clamd.pid}/status").read()
rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
eicar = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
found = ask(sock, b"zINSTREAM\0", eicar)
version = ask(sock, b"zVERSION\0")
clamd.terminate()
clamd.wait(60)
text = open(log).read()
count = re.findall(r"Loaded (\d+) signatures", text)
print(json.dumps({"load_seconds": round(loaded, 1), "rss_kb": rss, "peak_kb": peak, "eicar": found,
                  "version": version, "signatures": int(count[-1]) if count else None}))
"""


def podman(*args: str, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "lab" / "containers.conf"))
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, **kw)


def write_database(directory: pathlib.Path, hdb: int, ndb: int, seed: int) -> int:
    """The generated database (tests/helpers/clamav_db.py) and the lab's EICAR signatures; returns bytes written."""
    clamav_db.write_database(directory, hdb, ndb, seed)
    for path in LAB_SIGNATURES.glob("lab-eicar.*"):
        shutil.copy(path, directory / path.name)
    return sum(p.stat().st_size for p in directory.iterdir())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hdb", type=int, default=clamav_db.HDB, help="generated MD5 hash signatures (bench.hdb)")
    parser.add_argument("--ndb", type=int, default=clamav_db.NDB, help="generated body signatures (bench.ndb)")
    parser.add_argument("--image", default=os.environ.get("MAIL_IMAGE_DEBIAN13_MAIL", "localhost/debian13-mail:latest"))
    parser.add_argument("--timeout", type=float, default=900, help="seconds clamd may take to load")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="bench-clamd-db-"))
    name = f"bench-clamd-{os.getpid()}"
    try:
        t0 = time.monotonic()
        size = write_database(scratch, args.hdb, args.ndb, args.seed)
        written = time.monotonic() - t0
        os.chmod(scratch, 0o755)
        run = podman("run", "-d", "--name", name, "-v", f"{scratch}:{DB}:ro", "--entrypoint", "sleep",
                     args.image, "infinity")
        if run.returncode != 0:
            raise SystemExit(f"bench_clamd_db: cannot start a container of {args.image}: {run.stderr.strip()}")
        if podman("exec", name, "sh", "-c", "command -v clamd").returncode != 0:
            raise SystemExit(f"bench_clamd_db: {args.image} has no clamd (scripts/build-images.sh trixie-mail)")
        probe = podman("exec", "-i", name, "python3", "-", str(args.timeout), DB, input=PROBE,
                       timeout=args.timeout + 120)
        if probe.returncode != 0 or not probe.stdout.strip():
            raise SystemExit(f"bench_clamd_db: the probe failed ({probe.returncode}): {probe.stderr.strip()[-2000:]}")
        got = json.loads(probe.stdout.strip().splitlines()[-1])
    finally:
        podman("rm", "-f", name)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nclamd with a generated database of {args.hdb + args.ndb} signatures (the official one: about 8.7 "
          f"million; {args.image}, {os.cpu_count()} cores)")
    print(f"  {got['version']}")
    print(f"  signatures loaded            {got['signatures']} ({args.hdb} MD5 hashes, {args.ndb} body, lab EICAR)")
    print(f"  database files               {size / 1048576:.0f} MiB (written in {written:.0f} s)")
    print(f"  load: start until PONG       {got['load_seconds']:.1f} s")
    print(f"  resident memory once loaded  {got['rss_kb'] / 1024:.0f} MiB")
    print(f"  peak resident while loading  {got['peak_kb'] / 1024:.0f} MiB")
    print(f"  EICAR over INSTREAM          {got['eicar']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
