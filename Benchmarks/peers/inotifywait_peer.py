#!/usr/bin/env python3
"""Scenario 1 peer: `inotifywait -m` piped to a reader (this script).

    inotifywait_peer.py DIR OUTFILE

Runs `inotifywait -m -e close_write -e moved_to --format %f DIR` with its stdout on a pipe,
reads it line by line and writes "<name> <CLOCK_REALTIME us>" per line as it arrives.
READY is written once inotifywait says "Watches established." Runs until SIGTERM.
"""
import signal, subprocess, sys, time

directory, outfile = sys.argv[1], sys.argv[2]
out = open(outfile, "a", buffering=1)
proc = subprocess.Popen(
    ["inotifywait", "-m", "-e", "close_write", "-e", "moved_to", "--format", "%f", directory],
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
signal.signal(signal.SIGTERM, lambda *_: (proc.terminate(), sys.exit(0)))
for line in iter(proc.stderr.readline, b""):
    if b"Watches established" in line:
        break
out.write("READY\n")
reader = proc.stdout
while True:
    chunk = reader.readline()
    if not chunk:
        break
    now = time.time_ns() // 1000
    out.write(f"{chunk.decode().strip()} {now}\n")
