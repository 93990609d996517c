#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for agent-watcher's Slurm test and for trying the
# `slurm` runner by hand. Needs root and Debian (packages installed when missing). The machine
# may have no init system: the daemons are started here and stopped by pid.
#
#   .ci/slurm-cluster.sh up     install if needed, write the config, start munged,
#                                   slurmctld and slurmd; returns when `sinfo` shows the node idle
#   .ci/slurm-cluster.sh down   stop the daemons this script started (by pid)
#   .ci/slurm-cluster.sh status print sinfo
#
# State (pid files, spool, logs) lives under $AW_SLURM_STATE (default /tmp/aw-slurm).
# /etc/slurm/slurm.conf is written only when absent or written by this script before.
set -euo pipefail
state=${AW_SLURM_STATE:-/tmp/aw-slurm}
conf=/etc/slurm/slurm.conf
marker="# written by agent-watcher's slurm-cluster.sh"

die() { echo "slurm-cluster: $*" >&2; exit 1; }

stop_pid() { # name
  local f="$state/$1.pid"
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts slurmctld, slurmd, munged)"
  local missing=()
  for p in slurmctld:/usr/sbin/slurmctld slurmd:/usr/sbin/slurmd slurm-client:/usr/bin/srun munge:/usr/sbin/munged; do
    [ -x "${p#*:}" ] || missing+=("${p%%:*}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; } \
      || die "cannot install ${missing[*]}"
  fi
  local host; host=$(hostname -s)
  getent hosts "$host" >/dev/null || echo "127.0.0.1 $host" >> /etc/hosts
  if [ -f "$conf" ] && ! grep -qF "$marker" "$conf"; then
    die "$conf exists and was not written by this script; not touching it"
  fi
  mkdir -p "$state/spool/ctld" "$state/spool/d" "$state/log" /etc/slurm
  local cpus; cpus=$(nproc)
  local mem; mem=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))  # MiB, 90%
  cat > "$conf" <<EOF
$marker
ClusterName=aw
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
KillWait=5
MinJobAge=300
StateSaveLocation=$state/spool/ctld
SlurmdSpoolDir=$state/spool/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
EOF
  # munge: its own user, /run/munge, a key it owns with mode 0400, /etc/munge 0700.
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 0755 /run/munge
  [ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 0700 /etc/munge
  chmod 0400 /etc/munge/munge.key
  if ! { [ -f "$state/munged.pid" ] && kill -0 "$(cat "$state/munged.pid")" 2>/dev/null; }; then
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid.aw --force
    for _ in $(seq 1 50); do [ -s /run/munge/munged.pid.aw ] && break; sleep 0.1; done
    cp /run/munge/munged.pid.aw "$state/munged.pid"
  fi
  stop_pid slurmd; stop_pid slurmctld
  /usr/sbin/slurmctld -i   # -i: ignore state left by an earlier cluster
  /usr/sbin/slurmd
  for _ in $(seq 1 100); do
    if sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      echo "slurm-cluster: up (node $host, $cpus cpus, $mem MiB, state under $state)"; return 0
    fi
    sleep 0.1
  done
  sinfo >&2 || true
  die "the node did not become idle within 10 s; see $state/log/"
}

down() {
  stop_pid slurmd
  stop_pid slurmctld
  stop_pid munged
  echo "slurm-cluster: down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) sinfo ;;
  *) echo "usage: $0 up|down|status" >&2; exit 64 ;;
esac
