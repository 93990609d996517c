#!/usr/bin/env bash
# Installs the benchmark's peers when they are missing (Debian packages, else PyPI) and says,
# for each one that cannot be installed, why it will be skipped. Safe to run again.
#   C compiler (cc)      the C inotify reader (the floor) and the bench agent
#   inotify-tools        inotifywait -m piped to a reader
#   watchman             a watchman subscription
#   python3 + watchdog   Python watchdog (python3-watchdog, or pip install watchdog)
# watcher-bench looks for a python3 with watchdog in $BENCH_PYTHON, python3 on PATH, /usr/bin/python3.
set -u

have() { command -v "$1" >/dev/null 2>&1; }
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if have sudo && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
fi
updated=0
apt_install() { # package...
  if ! have apt-get; then echo "setup: skip $*: no apt-get on this machine"; return 1; fi
  if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then echo "setup: skip $*: apt-get needs root (no passwordless sudo)"; return 1; fi
  if [ "$updated" = 0 ]; then $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1; updated=1; fi
  if $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
    echo "setup: installed $*"
  else
    echo "setup: skip $*: apt-get install failed (not in this distribution's archive?)"
    return 1
  fi
}

have cc || apt_install gcc libc6-dev || true
have cc && echo "setup: cc: $(command -v cc)"

have inotifywait || apt_install inotify-tools || true
have inotifywait && echo "setup: inotifywait: $(command -v inotifywait)"

have watchman || apt_install watchman || true
have watchman && echo "setup: watchman: $(command -v watchman)"

pythons=()
[ -n "${BENCH_PYTHON:-}" ] && pythons+=("$BENCH_PYTHON")
have python3 && pythons+=("$(command -v python3)")
[ -x /usr/bin/python3 ] && pythons+=(/usr/bin/python3)
with_watchdog() { for p in "${pythons[@]}"; do "$p" -c 'import watchdog.observers' 2>/dev/null && { echo "$p"; return 0; }; done; return 1; }
if [ ${#pythons[@]} = 0 ]; then
  apt_install python3 && pythons+=(/usr/bin/python3)
fi
if [ ${#pythons[@]} = 0 ]; then
  echo "setup: skip the Python peers (watchdog, inotifywait reader, poll loop, json merge): no python3"
elif ! with_watchdog >/dev/null; then
  if [ -x /usr/bin/python3 ]; then apt_install python3-watchdog || true; fi
  if ! with_watchdog >/dev/null; then
    for p in "${pythons[@]}"; do
      if "$p" -m pip install -q watchdog >/dev/null 2>&1; then echo "setup: installed watchdog with $p -m pip"; break; fi
    done
  fi
  with_watchdog >/dev/null || echo "setup: skip watchdog: neither python3-watchdog nor pip install watchdog worked"
fi
p=$(with_watchdog) && echo "setup: watchdog: $p ($("$p" -c 'import watchdog.version as v; print(v.VERSION_STRING)'))"
exit 0
