#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the Slurm launcher's tests and for trying it out:
#
#   bash scripts/slurm-cluster.sh start    install slurm-wlm + munge if missing (apt-get, as root),
#                                          write the config, start munged, slurmctld, slurmd
#   bash scripts/slurm-cluster.sh status   exit 0 and print `SLURM_CONF=...` when the node is up
#   bash scripts/slurm-cluster.sh stop     stop the daemons this script started
#
# Everything (config, state, logs, pids) lives in one folder, $ABLATE_SLURM_DIR (default
# /tmp/ablate-slurm); Slurm's commands find the config through SLURM_CONF. When the machine has
# no /etc/slurm/slurm.conf of its own, a link to ours is put there so that plain `sbatch` works
# as on a real cluster. The node has the machine's CPUs and memory (`slurmd -C`), so sweep cells
# never oversubscribe it. No accounting daemon (slurmdbd): `sacct` does not work here, as on
# many small sites; ablate's status does not need it.
set -euo pipefail
DIR=${ABLATE_SLURM_DIR:-/tmp/ablate-slurm}
CONF="$DIR/slurm.conf"
export SLURM_CONF="$CONF"

say() { echo "slurm-cluster: $*" >&2; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then say "slurm-wlm and munge are not installed, and installing them needs root"; return 1; fi
  say "installing slurm-wlm and munge (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends slurm-wlm munge >/dev/null; }
}

write_config() {
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  local node cpus mem
  node=$(hostname -s)
  # `slurmd -C` prints what this machine has; the node is declared with exactly that.
  cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  cat >"$CONF" <<EOF
# Written by scripts/slurm-cluster.sh: a one-node test cluster (state and logs in $DIR).
ClusterName=ablate
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ReturnToService=2
MaxArraySize=1001
MinJobAge=600
KillWait=10
# A job that requeues itself on the warning signal is held this long before it may start again.
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  if [ ! -e /etc/slurm/slurm.conf ] && [ -w /etc/slurm ]; then ln -s "$CONF" /etc/slurm/slurm.conf; fi
}

up() { scontrol ping 2>/dev/null | grep -q UP && sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  install_packages
  if pid_alive "$DIR/slurmctld.pid" && up; then say "already up"; echo "SLURM_CONF=$CONF"; return 0; fi
  write_config
  if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge 2>/dev/null || true
    [ -f /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key; chown munge:munge /etc/munge/munge.key; }
    if [ "$(id -u)" = 0 ]; then runuser -u munge -- munged; else munged; fi
  fi
  # -i: ignore state from an earlier cluster in this folder that cannot be recovered.
  pid_alive "$DIR/slurmctld.pid" || slurmctld -i
  pid_alive "$DIR/slurmd.pid" || slurmd
  for _ in $(seq 1 60); do
    if up; then
      say "up: node $(hostname -s), $(sinfo -h -o '%c CPUs, %m MB, partition %P')"
      echo "SLURM_CONF=$CONF"
      return 0
    fi
    sleep 0.5
  done
  say "the cluster did not come up in 30 s; logs: $DIR/log"
  tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  return 1
}

stop() {
  local f
  for f in slurmd slurmctld; do
    if pid_alive "$DIR/$f.pid"; then
      kill "$(cat "$DIR/$f.pid")"
      for _ in $(seq 1 40); do pid_alive "$DIR/$f.pid" || break; sleep 0.25; done
    fi
  done
  if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$CONF" ]; then rm -f /etc/slurm/slurm.conf; fi
  say "stopped (munged keeps running: other programs may use it)"
}

status() {
  if pid_alive "$DIR/slurmctld.pid" && up; then
    echo "SLURM_CONF=$CONF"
    sinfo >&2
    return 0
  fi
  say "not running"
  return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
