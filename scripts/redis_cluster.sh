#!/usr/bin/env bash
# A local 3-master Redis Cluster for the state tests (no replicas), on 127.0.0.1 ports
# EVENTWIRE_CLUSTER_PORT .. +2 (default 7101-7103). Idempotent; `start` returns once the
# cluster reports cluster_state:ok. Data lives under .services/redis-cluster (git-ignored).
#
#   scripts/redis_cluster.sh start | stop | url
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${EVENTWIRE_SERVICES_DIR:-$root/.services}/redis-cluster"
base="${EVENTWIRE_CLUSTER_PORT:-7101}"
ports=("$base" "$((base + 1))" "$((base + 2))")

log() { printf '[redis-cluster] %s\n' "$*" >&2; }

cluster_ok() {
  redis-cli -p "${ports[0]}" cluster info 2>/dev/null | grep -q "cluster_state:ok"
}

start() {
  if ! command -v redis-server >/dev/null; then
    PYTHON="${PYTHON:-python3}" "$root/scripts/services.sh" start >/dev/null
  fi
  if cluster_ok; then log "cluster answers on ${ports[*]}; reusing it"; return 0; fi
  for port in "${ports[@]}"; do
    mkdir -p "$dir/$port"
    if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
      redis-server --bind 127.0.0.1 --port "$port" --cluster-enabled yes \
        --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 5000 \
        --dir "$dir/$port" --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" \
        --save "" --appendonly no --daemonize yes
    fi
  done
  for _ in $(seq 1 50); do
    all=1
    for port in "${ports[@]}"; do redis-cli -p "$port" ping >/dev/null 2>&1 || all=0; done
    [ "$all" = 1 ] && break
    sleep 0.2
  done
  if ! cluster_ok; then
    slots=$(redis-cli -p "${ports[0]}" cluster info | sed -n 's/^cluster_slots_assigned:\([0-9]*\).*/\1/p')
    if [ "${slots:-0}" = 0 ]; then
      log "creating the cluster on ${ports[*]}"
      redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes >/dev/null
    fi
  fi
  for _ in $(seq 1 100); do cluster_ok && { log "cluster is ready"; return 0; }; sleep 0.2; done
  log "the cluster did not reach cluster_state:ok"; exit 1
}

stop() {
  for port in "${ports[@]}"; do
    pidfile="$dir/$port/redis.pid"
    [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  rm -rf "$dir"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  url) echo "redis+cluster://127.0.0.1:${ports[0]}" ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
