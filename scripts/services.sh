#!/usr/bin/env bash
# Starts (idempotently) the local Apache Kafka (KRaft, single node) and Redis that eventwire
# needs, or reuses the ones configured in EVENTWIRE_KAFKA_BOOTSTRAP / EVENTWIRE_REDIS_URL when
# they answer. `start` returns only once both accept connections; `stop` stops only what this
# script started. Everything it downloads or writes lives under .services/ (git-ignored).
#
#   scripts/services.sh start | stop | status
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${EVENTWIRE_SERVICES_DIR:-$root/.services}"
kafka_dir="$state/kafka"
redis_dir="$state/redis"
bootstrap="${EVENTWIRE_KAFKA_BOOTSTRAP:-127.0.0.1:9092}"
redis_url="${EVENTWIRE_REDIS_URL:-redis://127.0.0.1:6379/0}"
kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/scripts/kafka/pom.xml")"
python="${PYTHON:-python3}"

log() { printf '[services] %s\n' "$*" >&2; }

first_address() { local a="${bootstrap%%,*}"; echo "${a#*://}"; }
kafka_host() { local a; a="$(first_address)"; echo "${a%:*}"; }
kafka_port() { local a; a="$(first_address)"; echo "${a##*:}"; }

# redis://[user:pass@]host:port/db -> host and port (cluster URLs name their first node).
redis_hostport() {
  local rest="${redis_url#*://}"
  rest="${rest##*@}"
  rest="${rest%%/*}"
  rest="${rest%%,*}"
  rest="${rest%%\?*}"
  case "$rest" in *:*) echo "$rest" ;; *) echo "$rest:6379" ;; esac
}
redis_host() { local hp; hp="$(redis_hostport)"; echo "${hp%:*}"; }
redis_port() { local hp; hp="$(redis_hostport)"; echo "${hp##*:}"; }

is_loopback() { case "$1" in 127.*|localhost|::1|\[::1\]) return 0 ;; *) return 1 ;; esac; }

kafka_ready() { "$python" "$root/scripts/kafka_ready.py" "$(first_address)" "${1:-0}"; }

redis_ready() {
  local host port
  host="$(redis_host)"; port="$(redis_port)"
  if command -v redis-cli >/dev/null 2>&1; then
    redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
  else
    (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null
  fi
}

fetch_kafka() {
  local libs="$kafka_dir/libs" marker="$kafka_dir/libs/.version"
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$kafka_version" ]; then return 0; fi
  command -v java >/dev/null || { log "java is not installed (Kafka needs Java 17+)"; exit 1; }
  command -v mvn >/dev/null || { log "mvn is not installed (it fetches the Kafka jars)"; exit 1; }
  log "fetching Apache Kafka $kafka_version jars with Maven into $libs"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  echo "$kafka_version" > "$marker"
}

start_kafka() {
  if kafka_ready; then log "Kafka answers at $bootstrap; reusing it"; return 0; fi
  if ! is_loopback "$(kafka_host)"; then
    log "Kafka at $bootstrap does not answer, and it is not a local address to start one on"; exit 1
  fi
  fetch_kafka
  local port ctl data conf pidfile
  port="$(kafka_port)"; ctl=$((port + 1)); data="$kafka_dir/data"; conf="$kafka_dir/server.properties"
  pidfile="$kafka_dir/kafka.pid"
  mkdir -p "$data"
  cat > "$conf" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
PROPS
  local java_opts=(-Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$root/scripts/kafka/log4j2.yaml")
  if [ ! -f "$data/meta.properties" ]; then
    log "formatting KRaft storage in $data"
    java "${java_opts[@]}" -cp "$kafka_dir/libs/*" kafka.tools.StorageTool format \
      -t "$(java -cp "$kafka_dir/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)" \
      -c "$conf" >&2
  fi
  log "starting Apache Kafka $kafka_version (KRaft) on 127.0.0.1:$port"
  nohup java "${java_opts[@]}" -cp "$kafka_dir/libs/*" kafka.Kafka "$conf" \
    > "$kafka_dir/kafka.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  if ! kafka_ready 90; then
    log "Kafka did not answer within 90 s; the end of $kafka_dir/kafka.log:"
    tail -n 30 "$kafka_dir/kafka.log" >&2
    exit 1
  fi
  log "Kafka is ready at $bootstrap"
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || { log "redis-server is missing and apt-get is not available"; exit 1; }
  log "installing Debian's redis-server"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools >&2
}

start_redis() {
  if redis_ready; then log "Redis answers at $(redis_hostport); reusing it"; return 0; fi
  if ! is_loopback "$(redis_host)"; then
    log "Redis at $(redis_hostport) does not answer, and it is not a local address to start one on"; exit 1
  fi
  install_redis
  mkdir -p "$redis_dir"
  log "starting redis-server on 127.0.0.1:$(redis_port)"
  redis-server --bind 127.0.0.1 --port "$(redis_port)" --daemonize yes \
    --dir "$redis_dir" --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log" \
    --save "" --appendonly no >&2
  for _ in $(seq 1 50); do redis_ready && { log "Redis is ready"; return 0; }; sleep 0.2; done
  log "Redis did not answer; see $redis_dir/redis.log"; exit 1
}

stop_pidfile() {
  local pidfile="$1" name="$2"
  [ -f "$pidfile" ] || return 0
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

case "${1:-start}" in
  start) start_redis; start_kafka ;;
  stop) stop_pidfile "$kafka_dir/kafka.pid" Kafka; stop_pidfile "$redis_dir/redis.pid" Redis ;;
  status)
    if kafka_ready; then echo "kafka: up ($bootstrap)"; else echo "kafka: down ($bootstrap)"; fi
    if redis_ready; then echo "redis: up ($(redis_hostport))"; else echo "redis: down ($(redis_hostport))"; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
