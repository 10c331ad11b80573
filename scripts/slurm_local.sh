#!/usr/bin/env bash
# A single-node SLURM "cluster" on localhost, for the `slurm` tests (tests/test_slurm.py) and CI.
#
#   scripts/slurm_local.sh start [DIR]   # munged + slurmctld + slurmd; prints SLURM_CONF=...
#   scripts/slurm_local.sh stop  [DIR]   # stops the daemons this script started (pid files)
#
# Needs Debian's slurm-wlm and munge (apt-get install slurm-wlm munge) and root (the daemons
# run as root here; a real cluster has its own). No cgroups, no accounting database:
# proctrack/linuxproc, task/none, select/cons_tres with cores and memory as the consumables.
# Jobs are queried with squeue (MinJobAge keeps finished jobs visible for 10 minutes).
set -euo pipefail
cmd="${1:-start}"
DIR="${2:-${NXGEO_SLURM_DIR:-/tmp/nxgeo-slurm}}"
CONF="$DIR/slurm.conf"

stop() {
  # the /etc/slurm/slurm.conf link made by start (only if it is ours)
  if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$CONF" ]; then
    rm -f /etc/slurm/slurm.conf
  fi
  for f in "$DIR/slurmd.pid" "$DIR/slurmctld.pid" "$DIR/munged.pid"; do
    if [ -s "$f" ]; then
      pid="$(cat "$f")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      rm -f "$f"
    fi
  done
}

if [ "$cmd" = "stop" ]; then
  stop
  exit 0
fi
[ "$cmd" = "start" ] || { echo "usage: $0 start|stop [DIR]" >&2; exit 2; }
for tool in munged slurmctld slurmd sbatch squeue; do
  command -v "$tool" >/dev/null 2>&1 || { echo "slurm_local: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 3; }
done
[ "$(id -u)" = "0" ] || { echo "slurm_local: needs root" >&2; exit 3; }

mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
stop  # a previous instance of this script in the same DIR

# munge: a key of our own, a socket of our own (does not touch a system munged)
KEY="$DIR/munge/munge.key"
[ -s "$KEY" ] || { dd if=/dev/urandom of="$KEY" bs=1024 count=1 2>/dev/null; chmod 600 "$KEY"; }
SOCK="$DIR/munge/munge.socket"
munged --force --key-file="$KEY" --socket="$SOCK" --pid-file="$DIR/munged.pid" \
  --log-file="$DIR/munged.log" --seed-file="$DIR/munge/munge.seed"

cpus=$(nproc)
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
real_mb=$(( mem_mb * 9 / 10 ))
cat > "$CONF" <<CONFEOF
# written by scripts/slurm_local.sh: single node on localhost, no cgroups, no accounting
ClusterName=nxgeo
SlurmctldHost=localhost
SlurmctldPort=6917
SlurmdPort=6918
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SOCK
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
SchedulerType=sched/backfill
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONFEOF

export SLURM_CONF="$CONF"
# srun inside a batch job does not see SLURM_CONF (slurmd gives the job its own environment for
# it) and looks for /etc/slurm/slurm.conf: link ours there when there is none (removed by stop)
if [ ! -e /etc/slurm/slurm.conf ]; then
  mkdir -p /etc/slurm
  ln -s "$CONF" /etc/slurm/slurm.conf
fi
slurmctld -f "$CONF"
slurmd -f "$CONF" -N localhost
for _ in $(seq 60); do
  if sinfo -h -o "%T" 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then
    echo "SLURM_CONF=$CONF"
    exit 0
  fi
  sleep 1
done
echo "slurm_local: the node did not come up; see $DIR/slurmctld.log and $DIR/slurmd.log" >&2
sinfo >&2 || true
exit 1
