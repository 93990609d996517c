#!/usr/bin/env python3
"""Scenario 1 peer: a watchman subscription.

    watchman_peer.py DIR OUTFILE STATEDIR

Starts a private watchman server (socket, state and log under STATEDIR), watches DIR,
subscribes to regular files, and writes "<name> <CLOCK_REALTIME us>" the first time a
name appears in a subscription notification. Watchman delivers after its settle period
(20 ms by default) and cannot tell a closed file from one still being written.
Runs until SIGTERM; stops its server on the way out.
"""
import json, os, signal, subprocess, sys, time

directory, outfile, state = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(state, exist_ok=True)
sock = os.path.join(state, "sock")
out = open(outfile, "a", buffering=1)
server = subprocess.Popen(
    ["watchman", "--foreground", "--sockname=" + sock, "--statefile=" + os.path.join(state, "state"),
     "--logfile=" + os.path.join(state, "log"), "--pidfile=" + os.path.join(state, "pid"), "--no-save-state"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
client = None


def stop(*_):
    if client:
        client.terminate()
    server.terminate()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
base = ["watchman", "--sockname=" + sock, "--no-spawn"]
for _ in range(200):
    if subprocess.run(base + ["version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
        break
    time.sleep(0.05)
for attempt in range(50):  # a server that has just started may not take a watch yet
    if subprocess.run(base + ["watch", directory], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0:
        break
    time.sleep(0.1)
else:
    subprocess.run(base + ["watch", directory], check=True)
client = subprocess.Popen(base + ["-j", "-p", "--no-pretty"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
client.stdin.write(json.dumps(["subscribe", directory, "bench", {"expression": ["type", "f"], "fields": ["name"]}]).encode() + b"\n")
client.stdin.flush()
seen = set()
first = True
while True:
    line = client.stdout.readline()
    if not line:
        break
    now = time.time_ns() // 1000
    pdu = json.loads(line)
    if first and "subscribe" in pdu:
        first = False
        out.write("READY\n")
        continue
    for name in pdu.get("files", []):
        if name not in seen:
            seen.add(name)
            out.write(f"{name} {now}\n")
stop()
