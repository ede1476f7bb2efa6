#!/usr/bin/env bash
# Records the sample bundles in samples/ with dashcam itself, against a real Docker engine:
#
#   oom-kill.dcb            a container killed by the kernel OOM killer (-m 16m)
#   crash-loop.dcb          a container restarted by --restart on-failure:3, exiting 1 each time
#   suspicious-shell.dcb    a shell that drops an executable in /tmp, runs it, and reads /etc/shadow
#   unexpected-connection.dcb  a container that connects to another container (both exported)
#
# It starts a private recorder on a temporary store, runs the scenarios with the busybox test
# image (network traffic only between the containers it starts), exports each one with
# `dashcam export`, verifies it, and checks it stays under 1 MiB. Everything it starts is removed
# on exit.
#
# Usage: npm run build && samples/record-samples.sh
# Engine: $DOCKER_HOST (sourced from .test-env/env when present); image: $DASHCAM_TEST_IMAGE.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [[ -f .test-env/env ]]; then source .test-env/env; fi
IMAGE=${DASHCAM_TEST_IMAGE:-dashcam-test/busybox:latest}
DASHCAM=(node "${DASHCAM_CLI:-$ROOT/dist/cli/main.js}")
OUT=${SAMPLES_OUT:-$ROOT/samples}
LABEL="dashcam-sample=$$"
NET="dcs-net-$$"
WORK=$(mktemp -d)
STORE=$WORK/store
REC_PID=

[[ -x dist/cli/main.js || -f dist/cli/main.js ]] || { echo "build first: npm run build" >&2; exit 1; }
docker version --format '{{.Server.Version}}' >/dev/null

cleanup() {
  set +e
  if [[ -n $REC_PID ]]; then kill -TERM "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null; fi
  ids=$(docker ps -aq --filter "label=$LABEL")
  [[ -n $ids ]] && docker rm -f $ids >/dev/null
  docker network rm "$NET" >/dev/null 2>&1
  if [[ -n ${KEEP_WORK:-} ]]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { printf '== %s\n' "$*" >&2; }
run() { docker run -d --label "$LABEL" "$@"; }
# Waits until `docker inspect -f FORMAT NAME` prints WANT (at most $3 seconds).
wait_for() {
  local name=$1 format=$2 want=$3 secs=${4:-60}
  for ((i = 0; i < secs * 5; i++)); do
    [[ $(docker inspect -f "$format" "$name" 2>/dev/null) == "$want" ]] && return 0
    sleep 0.2
  done
  echo "timed out waiting for $name: $format == $want (got $(docker inspect -f "$format" "$name" 2>&1))" >&2
  return 1
}

# Names are fixed so the samples read well; remove leftovers of an interrupted earlier run.
NAMES=(dcs-oom dcs-crashloop dcs-shell dcs-server dcs-beacon)
docker rm -f "${NAMES[@]}" >/dev/null 2>&1 || true

log "starting a private recorder on $STORE"
# The Docker source plus kernel activity (exec, file, net): eBPF by default, KERNEL_SOURCE=procfs
# where eBPF is not permitted.
"${DASHCAM[@]}" record --store "$STORE" --sources "docker,${KERNEL_SOURCE:-ebpf}" --stats-interval 2s --flush 50ms >"$WORK/record.log" 2>&1 &
REC_PID=$!
# bpftrace takes a while to compile its probes: wait until the recorder says it is recording.
for ((i = 0; i < 600; i++)); do grep -q 'recording to' "$WORK/record.log" && break; kill -0 "$REC_PID" 2>/dev/null || break; sleep 0.1; done
grep -q 'recording to' "$WORK/record.log" || { echo "the recorder did not start:" >&2; cat "$WORK/record.log" >&2; exit 1; }
sleep 1

log "scenario: OOM kill"
run --name dcs-oom -m 16m --memory-swap 16m "$IMAGE" sh -c 'echo "loading cache"; x=aaaaaaaa; while true; do x=$x$x; done' >/dev/null

log "scenario: crash loop (on-failure:3, exit 1)"
run --name dcs-crashloop --restart on-failure:3 "$IMAGE" sh -c 'echo "worker starting"; sleep 1; echo "fatal: cannot read /config/app.yaml" >&2; exit 1' >/dev/null

log "scenario: suspicious shell (drop, run, read /etc/shadow)"
run --name dcs-shell "$IMAGE" sh -c 'sleep 2; cd /tmp; printf "#!/bin/sh\necho dropped updater running\nid\n" > /tmp/.updater; chmod +x /tmp/.updater; /tmp/.updater; cat /etc/shadow; sleep 2' >/dev/null

log "scenario: unexpected connection between two containers"
docker network create --label "$LABEL" "$NET" >/dev/null
run --name dcs-server --network "$NET" "$IMAGE" sh -c 'echo "listening on 8080"; echo "hello from the server" | nc -l -p 8080; echo "served one client"; sleep 2' >/dev/null
sleep 2
run --name dcs-beacon --network "$NET" "$IMAGE" sh -c 'echo "phoning home"; echo ping | nc -w 3 dcs-server 8080; echo "done"; sleep 2' >/dev/null

wait_for dcs-oom '{{.State.Status}} {{.State.OOMKilled}}' 'exited true'
wait_for dcs-crashloop '{{.RestartCount}} {{.State.Status}}' '3 exited' 120
wait_for dcs-shell '{{.State.Status}}' 'exited'
wait_for dcs-beacon '{{.State.Status}}' 'exited'
wait_for dcs-server '{{.State.Status}}' 'exited'
sleep 3 # let the last stats, snapshots and logs reach the store

export_sample() {
  local file=$OUT/$1.dcb
  shift
  rm -f "$file"
  "${DASHCAM[@]}" export --store "$STORE" "$@" -o "$file"
  "${DASHCAM[@]}" verify "$file" >/dev/null
  local size
  size=$(stat -c %s "$file")
  if ((size >= 1048576)); then echo "$file is $size bytes, over the 1 MiB limit" >&2; exit 1; fi
}

mkdir -p "$OUT"
export_sample oom-kill -c dcs-oom
export_sample crash-loop -c dcs-crashloop
export_sample suspicious-shell -c dcs-shell
export_sample unexpected-connection -c dcs-beacon -c dcs-server

log "recorder log:"
sed 's/^/   /' "$WORK/record.log" | tail -20 >&2
log "done: $(ls "$OUT"/*.dcb | tr '\n' ' ')"
