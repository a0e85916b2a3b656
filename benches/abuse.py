#!/usr/bin/env python3
"""The issue-9 probes at full size against a running Gavel (see benches/abuse.sh).

Prints one line per figure. Standard library only: raw sockets, so nothing in a client
library softens what a stranger can send.
"""

import argparse
import json
import os
import socket
import statistics
import threading
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def healthz_ms(port, n=50):
    """Latencies of /healthz from 127.0.0.1 (failures count as the timeout)."""
    out = []
    for _ in range(n):
        start = time.monotonic()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10).read()
            out.append((time.monotonic() - start) * 1000)
        except Exception:
            out.append(10_000.0)
    out.sort()
    return out[len(out) // 2], out[int(len(out) * 0.99) - 1], sum(1 for x in out if x >= 10_000)


def connect_from(addr, port):
    s = socket.socket()
    s.bind((addr, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def alive(s):
    """Still open (the server has not closed it)?"""
    s.setblocking(False)
    try:
        data = s.recv(1)
        return data != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def probe_idle_connections(port, ops_port, total, addresses):
    held = []
    refused = 0
    for i in range(total):
        addr = f"127.0.{1 + (i % addresses) // 250}.{1 + (i % addresses) % 250}"
        try:
            held.append(connect_from(addr, port))
        except OSError:
            refused += 1
    time.sleep(0.5)  # let the server close what it refuses at accept
    still = sum(1 for s in held if alive(s))
    p50, p99, failed = healthz_ms(port)
    print(f"row 1: {total} idle connections from {addresses} addresses: {still} held after accept, "
          f"{refused} connect errors; /healthz (public port) p50 {p50:.1f} ms p99 {p99:.1f} ms, {failed} failed")
    if ops_port:
        p50, p99, failed = healthz_ms(ops_port)
        print(f"row 1: /healthz on the operators' port meanwhile: p50 {p50:.1f} ms p99 {p99:.1f} ms, {failed} failed")
    time.sleep(11)  # past the 10 s header-read timeout: what is still open?
    still = sum(1 for s in held if alive(s))
    print(f"row 1: after 11 s (header-read timeout 10 s): {still} of them still open")
    for s in held:
        s.close()


def probe_slowloris(port, n):
    conns = []
    for i in range(n):
        s = connect_from(f"127.0.2.{1 + i % 200}", port)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        conns.append(s)
    start = time.monotonic()
    while time.monotonic() - start < 15:
        for s in conns:
            try:
                s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
        time.sleep(2)
    still = sum(1 for s in conns if alive(s))
    print(f"row 1: {n} slowloris connections (a header line every 2 s): {still} open after 15 s")
    for s in conns:
        s.close()


def post_huge(port, megabytes, results):
    s = connect_from("127.0.0.1", port)
    s.settimeout(30)
    s.sendall(b"POST /api/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"A" * (1 << 20)
    sent = 0
    try:
        for _ in range(megabytes):
            s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            sent += 1
    except OSError:
        pass
    answer = b""
    try:
        while True:
            data = s.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    results.append((sent, answer))


def probe_bodies(port, pid):
    before = rss_kib(pid)
    results = []
    threads = [threading.Thread(target=post_huge, args=(port, 100, results)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = rss_kib(pid)
    statuses = sorted({a.split(b"\r\n", 1)[0].decode(errors="replace") for _, a in results})
    sizes = [len(a) for _, a in results]
    sent = [n for n, _ in results]
    print(f"row 2: 8 x 100 MB chunked JSON bodies: answers {statuses}, answer bytes max {max(sizes)}, "
          f"MiB sent before the server closed: max {max(sent)}; RSS {before // 1024} -> {after // 1024} MiB")


def ws_frame_header(length):
    # A masked text frame header declaring `length` bytes.
    return bytes([0x81, 0x80 | 127]) + length.to_bytes(8, "big") + b"\x00\x00\x00\x00"


def probe_websocket(port, pid):
    before = rss_kib(pid)
    closed = 0
    for _ in range(8):
        s = connect_from("127.0.0.1", port)
        s.settimeout(10)
        s.sendall(b"GET /api/socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        s.recv(4096)
        s.sendall(ws_frame_header(60 << 20))
        chunk = b"\x00" * (1 << 20)
        try:
            for _ in range(60):
                s.sendall(chunk)
        except OSError:
            closed += 1
        s.close()
    after = rss_kib(pid)
    print(f"row 4: 8 websocket frames of 60 MB before login (maxPayload 100000): {closed} of 8 connections "
          f"closed by the server mid-frame; RSS {before // 1024} -> {after // 1024} MiB")


def handshakes(port, addrs, per_addr, codes, lock):
    for addr in addrs:
        for _ in range(per_addr):
            try:
                s = connect_from(addr, port)
                s.sendall(b"GET /api/socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Connection: close\r\n\r\n")
                head = s.recv(4096).split(b" ", 2)
                code = head[1].decode() if len(head) > 1 else "closed"
                s.close()
            except OSError:
                code = "error"
            with lock:
                codes[code] = codes.get(code, 0) + 1


def probe_handshakes(port, pid, n, clients):
    """`n` handshakes from `clients` addresses, 16 at a time, none connecting a namespace."""
    before = rss_kib(pid)
    codes, lock = {}, threading.Lock()
    addrs = [f"127.0.3.{1 + i}" for i in range(clients)]
    threads = [threading.Thread(target=handshakes, args=(port, addrs[i::16], n // clients, codes, lock))
               for i in range(16)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - start
    peak = rss_kib(pid)
    time.sleep(15)
    after = rss_kib(pid)
    # Sessions live 5 s (connect timeout): at most 5 s worth of the accepted ones were open at once.
    alive = min(codes.get("200", 0), codes.get("200", 0) * 5 / max(took, 5))
    print(f"row 5: {n} polling handshakes from {clients} addresses in {took:.1f} s, none connecting a namespace: "
          f"{codes}; RSS {before // 1024} -> {peak // 1024} MiB, {after // 1024} MiB 15 s later (the allocator "
          f"keeps freed pages); at most ~{alive:.0f} open at once: >= {(peak - before) / max(alive, 1):.1f} KiB each")


def probe_log_flood(port, log_path, n):
    before = os.path.getsize(log_path)
    for i in range(n):
        req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                     headers={"Origin": f"https://x{i}.evil.example"})
        try:
            urllib.request.urlopen(req, timeout=5)
        except Exception:
            pass
    after = os.path.getsize(log_path)
    print(f"row 14: {n} requests with unique denied origins: {after - before} bytes of log")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ops-port", type=int)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--fds", type=int, default=20_000)
    a = p.parse_args()
    probe_idle_connections(a.port, a.ops_port, min(19_000, a.fds - 500), 100)
    probe_slowloris(a.port, 500)
    probe_bodies(a.port, a.pid)
    probe_websocket(a.port, a.pid)
    probe_handshakes(a.port, a.pid, 20_000, 200)
    probe_log_flood(a.port, a.log, 30_000)


if __name__ == "__main__":
    main()
