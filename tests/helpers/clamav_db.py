"""A ClamAV signature database the size of the official one, generated (the mirror is unreachable here).

The official database (main + daily + bytecode: about 8.7 million signatures in 2025-2026, most
of them hashes of files) cannot be downloaded in this lab, so this writes one of the same size:

- `bench.hdb`: `hdb` generated MD5 file hashes (`MD5:size:Bench.Hash-N`), sizes drawn from a pool
  of 100,000 as in the official database (clamd keeps one table per size, and 8 million distinct
  sizes overflow its memory pool: mpool_malloc refuses 128 MiB);
- `bench.ndb`: `ndb` generated body signatures (`Bench.Body-N:0:*:hex`, 16-32 random bytes each),
  which go into clamd's Aho-Corasick trie.

Generated hashes never match a real file, and hash signatures cost clamd less than the official
mix of body, logical and bytecode signatures: its load time and memory are a lower bound for the
official database's. The last body signature is returned as the `marker`: a file holding its bytes
is found by that signature's name, which proves the whole generated database was loaded.

One generator, two users: scripts/bench_clamd_db.py (`make bench`) imports it on the controller,
and the edge scenario's test (molecule/edge/tests/test_clamd_official_size.py) runs this file with
the mail host's own python3, which writes the files straight into clamd's database directory:

    python3 -c "$(cat tests/helpers/clamav_db.py)" DIRECTORY [HDB NDB SEED]

(prints the result as JSON). Standard library only, for any Debian python3.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

# clamd's socket protocol, for the scripts that run on a host beside clamd (the edge test's and
# make bench's): they prepend this source to their own. Standard library only.
CLAMD_CLIENT = r"""
import socket


def ask(sock, command, payload=None, wait=30):
    # one z-command on clamd's socket (INSTREAM: the payload in one chunk); the answer without its NUL
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(wait)
    try:
        s.connect(sock)
        s.sendall(command)
        if payload is not None:
            s.sendall(len(payload).to_bytes(4, "big") + payload + (0).to_bytes(4, "big"))
        answer = b""
        while not answer.endswith(b"\0"):
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer.rstrip(b"\0").decode()
    finally:
        s.close()
"""

HDB = 8_000_000  # generated MD5 hash signatures
NDB = 200_000  # generated body signatures
SIZES = 100_000  # distinct file sizes among the generated hashes
FILES = ("bench.hdb", "bench.ndb")


def write_database(directory, hdb: int = HDB, ndb: int = NDB, seed: int = 1) -> dict:
    """Write FILES into `directory`; returns {"bytes": their size, "marker": [name, hex]} (the last
    body signature: its name and the bytes, in hex, that it matches)."""
    rng = random.Random(seed)
    sizes = [rng.randrange(64, 1 << 24) for _ in range(SIZES)]
    hdb_path, ndb_path = (os.path.join(directory, name) for name in FILES)
    with open(hdb_path, "w", encoding="ascii", buffering=1 << 20) as out:
        for start in range(0, hdb, 100_000):
            out.write("".join(f"{rng.getrandbits(128):032x}:{rng.choice(sizes)}:Bench.Hash-{i}\n"
                              for i in range(start, min(hdb, start + 100_000))))
    marker = None
    with open(ndb_path, "w", encoding="ascii", buffering=1 << 20) as out:
        for i in range(ndb):
            body = rng.randbytes(rng.randrange(16, 33)).hex()
            out.write(f"Bench.Body-{i}:0:*:{body}\n")
            marker = [f"Bench.Body-{i}", body]
    return {"bytes": os.path.getsize(hdb_path) + os.path.getsize(ndb_path), "marker": marker}


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 4:
        print("usage: clamav_db.py DIRECTORY [HDB NDB SEED]", file=sys.stderr)
        return 2
    directory = argv[0]
    hdb, ndb, seed = [int(a) for a in argv[1:]] + [HDB, NDB, 1][len(argv) - 1:]
    start = time.monotonic()
    got = write_database(directory, hdb, ndb, seed)
    got.update(seconds=round(time.monotonic() - start, 1), signatures=hdb + ndb)
    print(json.dumps(got))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
