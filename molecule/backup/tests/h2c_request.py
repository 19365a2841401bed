"""One request to a backup account's repository server, as a client of it would send it.

Run ON THE STORE (python3 standard library only), as root, with the store's own SSH
key and configuration:

    python3 - METHOD PATH [BODY_FILE] < h2c_request.py     (ssh -F /etc/mail-backup/ssh_config ALIAS)

The backup account's only program is `rclone serve restic --stdio --append-only`: it
speaks restic's REST protocol over HTTP/2 without TLS (h2c, prior knowledge) on the
SSH channel's stdin/stdout. This sends one request (a DELETE of a pack, a POST over
an existing pack) on stream 1 and prints the reply's status code, or `none` with
what the server said when no reply came (GOAWAY, RST_STREAM, end of stream).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys

ALIAS = os.environ.get("MAIL_BACKUP_ALIAS", "mail-backup-primary")
SSH = ["ssh", "-F", os.environ.get("MAIL_BACKUP_SSH_CONFIG", "/etc/mail-backup/ssh_config"), ALIAS]
# HPACK static table entries 8..14 (RFC 7541 appendix A)
STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value % 128) + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def literal(name: str, value: str) -> bytes:
    """Literal header field without indexing, new name, no Huffman."""
    n, v = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(n), 7) + n + hpack_int(len(v), 7) + v


def frame(kind: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def huffman_digits(data: bytes) -> str:
    """Decode a Huffman-coded string of digits (codes 0-2: 5 bits, 3-9: 6 bits)."""
    bits = "".join(f"{b:08b}" for b in data)
    out, i = "", 0
    while i + 5 <= len(bits):
        five = int(bits[i:i + 5], 2)
        if five <= 2:
            out += str(five)
            i += 5
        elif i + 6 <= len(bits) and 0x19 <= int(bits[i:i + 6], 2) <= 0x1f:
            out += str(int(bits[i:i + 6], 2) - 0x19 + 3)
            i += 6
        else:
            break  # padding (all ones)
    return out


def status_of(block: bytes) -> int | None:
    """The :status of a response header block (the first field Go's server writes)."""
    i = 0
    while i < len(block) and block[i] & 0xE0 == 0x20:  # dynamic table size update
        i += 1
    b = block[i]
    if b & 0x80:
        return STATIC_STATUS.get(b & 0x7F)
    index = b & (0x3F if b & 0x40 else 0x0F)
    if index not in STATIC_STATUS:
        return None
    huff, length = block[i + 1] & 0x80, block[i + 1] & 0x7F
    raw = block[i + 2:i + 2 + length]
    return int(huffman_digits(raw) if huff else raw.decode())


def read_exact(stream, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def main() -> int:
    method, path = sys.argv[1], sys.argv[2]
    body = open(sys.argv[3], "rb").read() if len(sys.argv) > 3 else b""
    proc = subprocess.Popen(SSH, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    headers = b"".join(literal(k, v) for k, v in (
        (":method", method), (":scheme", "http"), (":path", path), (":authority", "localhost"),
        ("content-length", str(len(body)))))
    out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)
    out += frame(1, 0x4 | (0 if body else 0x1), 1, headers)
    if body:
        out += frame(0, 0x1, 1, body)
    proc.stdin.write(out)
    proc.stdin.flush()
    status, note = None, "end of stream"
    try:
        while True:
            head = read_exact(proc.stdout, 9)
            length = int.from_bytes(head[:3], "big")
            kind, flags, stream = head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
            payload = read_exact(proc.stdout, length)
            if kind == 4 and not flags & 0x1:
                proc.stdin.write(frame(4, 0x1, 0))
                proc.stdin.flush()
            elif kind == 1 and stream == 1:
                pad = payload[0] if flags & 0x8 else 0
                start = (1 if flags & 0x8 else 0) + (5 if flags & 0x20 else 0)
                status = status_of(payload[start:len(payload) - pad])
                break
            elif kind == 3 and stream == 1:
                note = f"RST_STREAM {int.from_bytes(payload[:4], 'big')}"
                break
            elif kind == 7:
                note = f"GOAWAY {int.from_bytes(payload[4:8], 'big')}"
                break
    except EOFError:
        pass
    finally:
        try:  # closes stdin: the server ends
            err = proc.communicate(timeout=20)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            err = proc.communicate()[1]
    print(status if status is not None else f"none ({note})")
    sys.stderr.write(err.decode(errors="replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
