#!/usr/bin/env python3
"""Scenario 1 and 6 peer: the polling loop that agent-watcher replaces.

    poll_peer.py DIR OUTFILE PERIOD_SECONDS [--tree]

Every PERIOD seconds lists DIR (with --tree: every folder under DIR, as a script checking a
mailbox of many folders does) and writes "<name> <CLOCK_REALTIME us>" for each name not
seen before. The replaced scripts also slept 2 s after seeing a file "to be sure the write
is complete"; that sleep is not run here, it is added in the report from the formula.
"""
import os, signal, sys, time

directory, outfile, period = sys.argv[1], sys.argv[2], float(sys.argv[3])
tree = "--tree" in sys.argv[4:]
out = open(outfile, "a", buffering=1)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
seen = set()


def listing():
    if not tree:
        return os.listdir(directory)
    names = []
    for folder, _, files in os.walk(directory):
        names.extend(files)
    return names


for name in listing():
    seen.add(name)
out.write("READY\n")
next_tick = time.monotonic() + period
while True:
    time.sleep(max(0.0, next_tick - time.monotonic()))
    next_tick += period
    names = listing()
    now = time.time_ns() // 1000
    for name in names:
        if name not in seen:
            seen.add(name)
            out.write(f"{name} {now}\n")
