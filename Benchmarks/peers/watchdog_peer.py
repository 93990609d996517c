#!/usr/bin/env python3
"""Scenario 1 and 6 peer: Python watchdog (inotify observer on Linux).

    watchdog_peer.py DIR OUTFILE [--recursive]

Writes READY once the observer runs, then "<name> <CLOCK_REALTIME us>" the first time a
file is complete: `closed` (IN_CLOSE_WRITE) for in-place writes (names w-*), `created` or
`moved` for files renamed in (names r-*; a rename from outside the watched tree is reported
as created). Other names: the first event of any kind. Runs until SIGTERM.
"""
import os, signal, sys, time
from watchdog.observers import Observer
from watchdog.events import FileSystemEventHandler

directory, outfile = sys.argv[1], sys.argv[2]
recursive = "--recursive" in sys.argv[3:]
out = open(outfile, "a", buffering=1)
seen = set()


class Handler(FileSystemEventHandler):
    def on_any_event(self, event):
        now = time.time_ns() // 1000
        if event.is_directory:
            return
        kind = event.event_type
        path = event.dest_path if kind == "moved" else event.src_path
        name = os.path.basename(path)
        if name in seen:
            return
        if name.startswith("w-") and kind != "closed":
            return
        if name.startswith("r-") and kind not in ("created", "moved"):
            return
        seen.add(name)
        out.write(f"{name} {now}\n")


observer = Observer()
observer.schedule(Handler(), directory, recursive=recursive)
observer.start()
out.write("READY\n")
signal.signal(signal.SIGTERM, lambda *_: (observer.stop(), sys.exit(0)))
try:
    while observer.is_alive():
        observer.join(3600)
finally:
    observer.stop()
