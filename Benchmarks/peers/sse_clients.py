#!/usr/bin/env python3
"""N Server-Sent Events clients of the dashboard's /api/stream, for watcher-bench scenario 8.

Usage: sse_clients.py PORT TOKEN N SINCE OUT_JSON READY_FILE

Connects N clients (`GET /api/stream?since=SINCE`), writes READY_FILE once every one has its
200 head, then reads every stream until each has received a record whose data holds
"run.completed" (or 600 s pass, or SIGTERM). Writes OUT_JSON: per client the number of
records, the first and last id, whether the ids rose by exactly one each time, and the
CLOCK_REALTIME at which the client had its last record.
"""
import json
import re
import selectors
import signal
import socket
import sys
import time

port, token, n, since, out_path, ready_path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
ID = re.compile(rb"^id: (\d+)$", re.M)
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


class Client:
    def __init__(self, i):
        self.i = i
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"GET /api/stream?since={since} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        self.head = False
        self.count = 0
        self.first = None
        self.last = None
        self.gaps = 0
        self.done_at = None
        self.status = None

    def feed(self, data):
        self.buf += data
        if not self.head:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self.buf.split(b" ", 2)[1])
            self.head = True
            self.buf = self.buf[end + 4:]
        cut = self.buf.rfind(b"\n\n")
        if cut < 0:
            return
        whole, self.buf = self.buf[:cut + 2], self.buf[cut + 2:]
        for m in ID.finditer(whole):
            k = int(m.group(1))
            if self.first is None:
                self.first = k
            elif k != self.last + 1:
                self.gaps += 1
            self.last = k
            self.count += 1
        if self.done_at is None and b'"event":"run.completed"' in whole:
            self.done_at = time.time()


sel = selectors.DefaultSelector()
clients = [Client(i) for i in range(n)]
for c in clients:
    c.sock.setblocking(False)
    sel.register(c.sock, selectors.EVENT_READ, c)
ready_written = False
deadline = time.monotonic() + 600
while not stop and time.monotonic() < deadline:
    if all(c.done_at is not None for c in clients):
        break
    for key, _ in sel.select(timeout=1):
        c = key.data
        try:
            data = c.sock.recv(1 << 16)
        except BlockingIOError:
            continue
        if not data:
            sel.unregister(c.sock)
            c.done_at = c.done_at or -1.0
            continue
        c.feed(data)
    if not ready_written and all(c.head for c in clients):
        with open(ready_path, "w") as f:
            f.write("READY %s\n" % ",".join(str(c.status) for c in clients))
        ready_written = True
with open(out_path, "w") as f:
    json.dump({"clients": [{"status": c.status, "count": c.count, "first": c.first, "last": c.last, "gaps": c.gaps,
                            "done_at": c.done_at} for c in clients]}, f)
