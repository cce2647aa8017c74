#!/usr/bin/python3
"""bench/chunked.py: aws-chunked signed uploads against UNSIGNED-PAYLOAD uploads
of the same sizes (issue 3 "Figures": within 15%, the price of the server's
SHA-256 of every chunk and its chunk signatures).

    /usr/bin/python3 bench/chunked.py [--sizes 1,16,64] [--conns 2] [--duration 8]
                                      [--runs 3] [--sync off] [--modes unsigned,chunked,...]

Method: one Basalt server (BASALT_BIN, default build-release/basalt) over 4
drive folders in a temporary directory (EC 2+2), --sync=off by default so the
figure is the request path rather than the disk. For each mode and size, the
requests are built once before timing (each connection overwrites its own
key; the signed head and the chunk signatures stay valid for the 15 minutes
of SigV4 skew), then `--conns` connections replay them over keep-alive for
`--duration` seconds: the client only sends bytes, so the figures compare the
server's costs. Modes:
    unsigned   x-amz-content-sha256: UNSIGNED-PAYLOAD, raw body (the baseline)
    sha256     x-amz-content-sha256: <hex SHA-256 of the body>, raw body
    chunked    STREAMING-AWS4-HMAC-SHA256-PAYLOAD, 64 KiB chunks, every one signed
    trailer    STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer
    crc64      UNSIGNED-PAYLOAD with an x-amz-checksum-crc64nvme header
Prints MiB/s (median of --runs, and every run) and each mode's ratio to
`unsigned` at the same size. The machine's other load makes the figures noisy:
run it on a quiet machine, and compare modes within one run only.
"""

import argparse
import base64
import hashlib
import hmac
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AK, SK, REGION = "benchadmin", "bench-secret-key-123", "us-east-1"
EMPTY = hashlib.sha256(b"").hexdigest()
MIB = 1 << 20
CHUNK = 65536


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256)


def signing_key(date):
    k = _hmac(("AWS4" + SK).encode(), date).digest()
    for part in (REGION, "s3", "aws4_request"):
        k = _hmac(k, part).digest()
    return k


def sign(method, host, path, headers, payload_hash, amzdate):
    """The request head (bytes, with its blank line) and the seed signature."""
    h = {k.lower(): v for k, v in headers.items()}
    h.update({"host": host, "x-amz-date": amzdate, "x-amz-content-sha256": payload_hash})
    names = sorted(h)
    creq = "\n".join([method, path, "", "".join(f"{n}:{h[n]}\n" for n in names), ";".join(names),
                      payload_hash])
    scope = f"{amzdate[:8]}/{REGION}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = _hmac(signing_key(amzdate[:8]), sts).hexdigest()
    h["authorization"] = (f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, "
                          f"SignedHeaders={';'.join(names)}, Signature={sig}")
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
    return (head + "\r\n").encode(), sig


def chunked_body(data, amzdate, seed):
    key = signing_key(amzdate[:8])
    scope = f"{amzdate[:8]}/{REGION}/s3/aws4_request"
    prev, out = seed, []
    for off in list(range(0, len(data), CHUNK)) + [len(data)]:
        piece = data[off:off + CHUNK] if off < len(data) else b""
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amzdate, scope, prev, EMPTY,
                         hashlib.sha256(piece).hexdigest()])
        prev = _hmac(key, sts).hexdigest()
        out.append(f"{len(piece):x};chunk-signature={prev}\r\n".encode() + piece
                   + (b"\r\n" if piece else b""))
    return b"".join(out) + b"\r\n"


def trailer_body(data):
    out = [f"{min(CHUNK, len(data) - off):x}\r\n".encode() + data[off:off + CHUNK] + b"\r\n"
           for off in range(0, len(data), CHUNK)]
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    return b"".join(out) + f"0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n".encode()


def crc64nvme_b64(data):
    """CRC-64/NVME, slow in Python: only computed once per size."""
    poly, table = 0x9A6C9329AC4BC9B5, []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    c = (1 << 64) - 1
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return base64.b64encode((c ^ ((1 << 64) - 1)).to_bytes(8, "big")).decode()


def build_request(mode, host, path, data, amzdate, crc64=None):
    """(head, body) bytes of one PUT."""
    if mode == "unsigned":
        return sign("PUT", host, path, {"content-length": str(len(data))}, "UNSIGNED-PAYLOAD",
                    amzdate)[0], data
    if mode == "sha256":
        return sign("PUT", host, path, {"content-length": str(len(data))},
                    hashlib.sha256(data).hexdigest(), amzdate)[0], data
    if mode == "crc64":
        return sign("PUT", host, path, {"content-length": str(len(data)),
                                        "x-amz-checksum-crc64nvme": crc64},
                    "UNSIGNED-PAYLOAD", amzdate)[0], data
    if mode == "trailer":
        body = trailer_body(data)
        h = {"content-length": str(len(body)), "content-encoding": "aws-chunked",
             "x-amz-decoded-content-length": str(len(data)), "x-amz-trailer": "x-amz-checksum-crc32"}
        return sign("PUT", host, path, h, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", amzdate)[0], body
    # chunked: the body's length is known before signing (64 KiB chunks)
    nfull, rest = divmod(len(data), CHUNK)
    sizes = [CHUNK] * nfull + ([rest] if rest else []) + [0]
    enc = sum(len(f"{n:x};chunk-signature=") + 64 + 2 + n + (2 if n else 0) for n in sizes) + 2
    h = {"content-length": str(enc), "content-encoding": "aws-chunked",
         "x-amz-decoded-content-length": str(len(data))}
    head, seed = sign("PUT", host, path, h, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", amzdate)
    body = chunked_body(data, amzdate, seed)
    assert len(body) == enc
    return head, body


def read_response(sock, buf):
    """Reads one response (status, rest of the buffer); bodies are small (errors) or empty."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    n = 0
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        if k.strip().lower() == "content-length":
            n = int(v)
    while len(rest) < n:
        rest += sock.recv(65536)
    if status != 200:
        raise RuntimeError(f"PUT answered {status}: {rest[:300]!r}")
    return rest[n:]


def run_figure(port, reqs, duration):
    """Each connection replays its request for `duration` s; returns MiB/s of payload."""
    stop = time.monotonic() + duration
    done = [0] * len(reqs)
    errors = []

    def worker(i):
        head, body, payload = reqs[i]
        try:
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf = b""
            while time.monotonic() < stop:
                s.sendall(head)
                s.sendall(body)
                buf = read_response(s, buf)
                done[i] += payload
            s.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t0 = time.monotonic()
    ths = [threading.Thread(target=worker, args=(i,)) for i in range(len(reqs))]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    if errors:
        raise errors[0]
    return sum(done) / MIB / (time.monotonic() - t0)


def start_server(binary, root, port, sync):
    env = dict(os.environ, BASALT_ROOT_USER=AK, BASALT_ROOT_PASSWORD=SK)
    logf = open(root / "server.log", "ab")
    proc = subprocess.Popen([binary, "server", "--address", f"127.0.0.1:{port}",
                             f"--sync={sync}", str(root / "d{1...4}")], stdout=logf,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"basalt exited; see {root / 'server.log'}")
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            s.sendall(b"GET /basalt/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            if b" 200 " in s.recv(4096):
                s.close()
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("basalt not live")


def make_bucket(port, bucket):
    amzdate = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    head, _ = sign("PUT", f"127.0.0.1:{port}", f"/{bucket}", {"content-length": "0"}, EMPTY,
                   amzdate)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head)
    s.recv(65536)
    s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,16,64", help="MiB, comma separated")
    ap.add_argument("--conns", type=int, default=2)
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sync", default="off", choices=["on", "off"])
    ap.add_argument("--modes", default="unsigned,chunked,sha256,trailer,crc64")
    ap.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT_BASE", "9390")) + 5)
    args = ap.parse_args()
    binary = os.environ.get("BASALT_BIN") or str(
        REPO / ("build-release/basalt" if (REPO / "build-release/basalt").exists() else "build/basalt"))
    modes = args.modes.split(",")
    root = Path(tempfile.mkdtemp(prefix="basalt-bench-chunked-", dir=os.environ.get("BENCH_DIR")))
    proc = start_server(binary, root, args.port, args.sync)
    host = f"127.0.0.1:{args.port}"
    results = {}
    try:
        make_bucket(args.port, "bench")
        for size_mib in [int(x) for x in args.sizes.split(",")]:
            data = os.urandom(size_mib * MIB)
            crc64 = crc64nvme_b64(data) if "crc64" in modes else None
            amzdate = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            reqs = {m: [build_request(m, host, f"/bench/{m}-{size_mib}-{i}", data, amzdate, crc64)
                        + (len(data),) for i in range(args.conns)] for m in modes}
            for r in range(args.runs):  # interleave the modes: load changes hit all alike
                for m in modes:
                    v = run_figure(args.port, reqs[m], args.duration)
                    results.setdefault((size_mib, m), []).append(v)
                    log(f"  {size_mib} MiB {m:9s} run {r + 1}: {v:8.1f} MiB/s")
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nPUT throughput, {args.conns} connections, --sync={args.sync}, "
          f"median of {args.runs} x {args.duration:g} s (MiB/s of payload; every run in brackets)")
    print(f"{'size':>6}  {'mode':9s} {'MiB/s':>8}  {'vs unsigned':>11}  runs")
    for (size_mib, m), vals in results.items():
        med = statistics.median(vals)
        base = statistics.median(results.get((size_mib, "unsigned"), [med]))
        print(f"{size_mib:>4} MiB  {m:9s} {med:8.1f}  {med / base:10.1%}  "
              f"[{', '.join(f'{v:.0f}' for v in vals)}]")


if __name__ == "__main__":
    main()
