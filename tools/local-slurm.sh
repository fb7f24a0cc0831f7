#!/usr/bin/env bash
# local-slurm.sh: a one-node SLURM cluster on this machine, to run the workflow through
# `snakemake --executor slurm` as a real cluster would (Debian 12: SLURM 22.05, munge).
#
#   tools/local-slurm.sh start [--accounting]   install what is missing, start the daemons,
#                                               wait for the node, print "slurm ready"
#   tools/local-slurm.sh stop [DAEMON...]       stop only daemons this script started (all of them,
#                                               or those named, e.g. the ones one `start` reported)
#   tools/local-slurm.sh status
#
# Partitions: `cpu` (the default) and `gpu`; the node declares this machine's real CPUs (nproc) and
# memory, so that a request too big for it is seen as on a real cluster, and one GPU (gres.conf, no
# device behind it), so that a job asking for a GPU is scheduled as on a real cluster, then runs on the CPU.
# Memory requests are enforced (jobacct_gather/linux + OverMemoryKill; no cgroups needed).
# Without --accounting there is no slurmdbd, so `sacct` fails: run Snakemake with
# `--slurm-status-command squeue` (finished jobs stay in squeue for MinJobAge=600 s).
# Exit codes: 0 ready, 1 a daemon failed, 3 cannot set up here (not root, packages unavailable,
# or missing under LOCAL_SLURM_NO_INSTALL=1).
# Every wait is bounded; nothing here waits forever.
set -euo pipefail

CMD=start
ACCOUNTING=${LOCAL_SLURM_ACCOUNTING:-0}
DAEMONS=(slurmd slurmctld slurmdbd mariadbd munged) # in stopping order
chosen=()
for arg in "$@"; do
  case "$arg" in
    start | stop | status) CMD=$arg ;;
    --accounting) ACCOUNTING=1 ;;
    slurmd | slurmctld | slurmdbd | mariadbd | munged) chosen+=("$arg") ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "local-slurm: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

PIDS=/run/symba-local-slurm # pid records of the daemons started here: stop kills only these
SPOOL=/var/spool/slurm
LOGS=/var/log/slurm
CONF=/etc/slurm
NODE=localhost
DB_SOCKET=/run/mysqld/mysqld.sock
DB_PASSWORD=${LOCAL_SLURM_DBPASS:-symba-local-slurm}

say() { echo "[local-slurm] $*" >&2; }
fail() { say "ERROR: $1"; exit "${2:-1}"; }

# Is daemon NAME alive under the pid recorded here (and is that pid still NAME)?
started_here() {
  local pid
  pid=$(cat "$PIDS/$1.pid" 2>/dev/null) || return 1
  [[ -n $pid && -r /proc/$pid/comm && $(cat "/proc/$pid/comm") == "$1" ]]
}

checksum() { cat "$@" | md5sum | cut -d' ' -f1; }
# Started here, but with an older version of its config files?
outdated() {
  local name=$1
  shift
  started_here "$name" && [[ $(cat "$PIDS/$name.conf-md5" 2>/dev/null) != "$(checksum "$@")" ]]
}

stop_daemon() {
  local name=$1 pid
  if started_here "$name"; then
    pid=$(cat "$PIDS/$name.pid")
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
    if [[ -d /proc/$pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$PIDS/$name.pid" "$PIDS/$name.conf-md5"
}

# Wait up to SECONDS for COMMAND to succeed.
wait_for() {
  local seconds=$1 end
  shift
  end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.3
  done
}

case $CMD in
  stop)
    for name in "${DAEMONS[@]}"; do
      if ((${#chosen[@]} == 0)) || [[ " ${chosen[*]} " == *" $name "* ]]; then stop_daemon "$name"; fi
    done
    exit 0
    ;;
  status)
    for name in munged mariadbd slurmdbd slurmctld slurmd; do
      if started_here "$name"; then echo "$name: running, pid $(cat "$PIDS/$name.pid")"; else echo "$name: not started here"; fi
    done
    timeout 10 sinfo 2>&1 || true
    exit 0
    ;;
esac

[[ $(id -u) -eq 0 ]] || fail "must run as root (it installs packages and starts daemons)" 3

# ---------------------------------------------------------------- packages
packages=(munge slurmctld slurmd slurm-client)
((ACCOUNTING)) && packages+=(slurmdbd mariadb-server)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  [[ ${LOCAL_SLURM_NO_INSTALL:-0} == 1 ]] && fail "not installed: ${missing[*]} (tools/local-slurm.sh start installs them)" 3
  command -v apt-get >/dev/null || fail "no apt-get to install ${missing[*]}" 3
  say "installing ${missing[*]}"
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then # keep the packages from starting their own daemons
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq >&2 || fail "apt-get update failed" 3
  timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    fail "cannot install ${missing[*]}" 3
fi

mkdir -p "$PIDS" "$SPOOL/ctld" "$SPOOL/d" "$LOGS" "$CONF"

# ---------------------------------------------------------------- munge (authentication)
munge_works() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if [[ ! -s /etc/munge/munge.key ]]; then
  mkdir -p /etc/munge
  mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
if ! munge_works; then
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge
  chmod 755 /run/munge
  say "starting munged"
  timeout 30 runuser -u munge -- /usr/sbin/munged --force || fail "munged did not start"
  wait_for 15 munge_works || fail "munged does not answer (/var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$PIDS/munged.pid"
fi

# ---------------------------------------------------------------- slurm.conf
# The node declares what this machine really has, as a user's cluster would: the CPUs this process
# may use (nproc: affinity and cpusets, which slurmd -C does not see) and its memory (slurmd -C's
# RealMemory, capped by a cgroup limit). LOCAL_SLURM_CPUS / LOCAL_SLURM_MEM_MB override them.
hardware=$(timeout 30 slurmd -C 2>/dev/null | head -1 || true)
cpus=${LOCAL_SLURM_CPUS:-$(nproc)}
real_memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hardware")
real_memory=${real_memory:-$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))}
cgroup_limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || echo max)
if [[ $cgroup_limit =~ ^[0-9]+$ ]] && ((cgroup_limit / 1048576 < real_memory)); then
  real_memory=$((cgroup_limit / 1048576))
fi
memory=${LOCAL_SLURM_MEM_MB:-$real_memory}
[[ $cpus =~ ^[1-9][0-9]*$ && $memory =~ ^[1-9][0-9]*$ ]] || fail "bad CPU count '$cpus' or memory '$memory' MB" 2
if ((ACCOUNTING)); then
  accounting="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
else
  accounting="AccountingStorageType=accounting_storage/none"
fi
slurm_conf="# written by symba tools/local-slurm.sh
ClusterName=symba-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# Memory requests enforced by polling /proc every second.
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
# Finished jobs stay visible to squeue for 10 min: the plugin polls squeue only if this is
# at least 3x its first-check delay, and otherwise falls back to sacct.
MinJobAge=600
KillWait=5
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
$accounting
JobCompType=jobcomp/none
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE MaxTime=INFINITE State=UP"
# One GPU for the scheduler, no device behind it: SLURM wants a device file, /dev/null serves.
gres_conf="AutoDetect=off
NodeName=$NODE Name=gpu File=/dev/null Count=1"

config_changed=0
write_if_changed() { # FILE TEXT
  if [[ ! -f $1 ]] || [[ $(cat "$1") != "$2" ]]; then
    printf '%s\n' "$2" >"$1"
    config_changed=1
  fi
}
write_if_changed "$CONF/slurm.conf" "$slurm_conf"
write_if_changed "$CONF/gres.conf" "$gres_conf"
if ((config_changed)); then
  for daemon in slurmctld slurmd; do
    if ! started_here "$daemon" && pgrep -x "$daemon" >/dev/null; then
      fail "a $daemon not started by this script is running; stop it first"
    fi
  done
fi

# ---------------------------------------------------------------- accounting (optional)
if ((ACCOUNTING)); then
  db_up() { mariadb-admin --socket=$DB_SOCKET ping; }
  if ! db_up >/dev/null 2>&1; then
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld
    [[ -d /var/lib/mysql/mysql ]] || timeout 120 mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null 2>&1
    say "starting mariadbd"
    nohup /usr/sbin/mariadbd --user=mysql --socket=$DB_SOCKET --pid-file=/run/mysqld/mariadbd.pid \
      --bind-address=127.0.0.1 --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
      >>"$LOGS/mariadb.log" 2>&1 &
    echo $! >"$PIDS/mariadbd.pid"
    wait_for 60 db_up || fail "mariadb did not come up ($LOGS/mariadb.log)"
  fi
  timeout 30 mariadb --socket=$DB_SOCKET -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  slurmdbd_conf="AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
PidFile=$PIDS/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log"
  write_if_changed "$CONF/slurmdbd.conf" "$slurmdbd_conf"
  chmod 600 "$CONF/slurmdbd.conf"
  if outdated slurmdbd "$CONF/slurmdbd.conf"; then stop_daemon slurmdbd; fi
  if ! started_here slurmdbd && ! pgrep -x slurmdbd >/dev/null; then
    say "starting slurmdbd"
    timeout 60 slurmdbd || fail "slurmdbd did not start ($LOGS/slurmdbd.log)"
    checksum "$CONF/slurmdbd.conf" >"$PIDS/slurmdbd.conf-md5"
  fi
  dbd_listens() { (exec 3<>/dev/tcp/127.0.0.1/6819); }
  wait_for 60 dbd_listens || fail "slurmdbd is not listening ($LOGS/slurmdbd.log)"
fi

# ---------------------------------------------------------------- slurmctld + slurmd
if outdated slurmctld "$CONF/slurm.conf" "$CONF/gres.conf" || outdated slurmd "$CONF/slurm.conf" "$CONF/gres.conf"; then
  stop_daemon slurmd
  stop_daemon slurmctld
fi
if ! pgrep -x slurmctld >/dev/null; then
  say "starting slurmctld"
  timeout 60 slurmctld || fail "slurmctld did not start ($LOGS/slurmctld.log)"
  checksum "$CONF/slurm.conf" "$CONF/gres.conf" >"$PIDS/slurmctld.conf-md5"
fi
if ! pgrep -x slurmd >/dev/null; then
  say "starting slurmd"
  timeout 60 slurmd -N "$NODE" || fail "slurmd did not start ($LOGS/slurmd.log)"
  checksum "$CONF/slurm.conf" "$CONF/gres.conf" >"$PIDS/slurmd.conf-md5"
fi

# ---------------------------------------------------------------- wait for the node
node_state() { timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1 || true; }
usable() { [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]]; }
if ! wait_for 20 usable; then
  # a node left down by an earlier run comes back only when told to
  timeout 10 scontrol update nodename="$NODE" state=resume >&2 || true
  wait_for 40 usable || fail "node $NODE is '$(node_state)'; see $LOGS/slurmctld.log and $LOGS/slurmd.log"
fi
timeout 60 srun -N1 -n1 -t 1 true >&2 || fail "a test job ('srun true') did not run"
say "node $NODE: $cpus CPUs, $memory MB, 1 GPU (declared); partitions cpu (default), gpu; accounting=$ACCOUNTING"
echo "slurm ready"
