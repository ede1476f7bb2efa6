#!/usr/bin/env bash
# The real engine the test suite runs against: a private dockerd with its own data root, exec
# root, pid file, socket and bridge, so it never touches a Docker engine the user already runs.
#
#   scripts/test-env.sh up              install what is missing, start the engine, import the image
#   scripts/test-env.sh down            stop the engine (its data stays under .test-env/ for speed)
#   scripts/test-env.sh stop-engine     stop dockerd only (tests of engine outages)
#   scripts/test-env.sh start-engine    start it again
#   scripts/test-env.sh restart-engine  both
#   scripts/test-env.sh env             print the environment the tests need (source it)
#
# Needs root (dockerd, bpftrace). Every step is idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_DIR="${DASHCAM_TEST_ENV_DIR:-$ROOT/.test-env}"
# dockerd's exec root and socket paths must stay short (unix socket path limit).
RUN_DIR="${DASHCAM_TEST_RUN_DIR:-/run/dashcam-test}"
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
BRIDGE=dcbr0
BRIDGE_CIDR=172.31.251.1/24
IMAGE=dashcam-test/busybox:latest

log() { printf 'test-env: %s\n' "$*" >&2; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (dockerd and bpftrace need it)"; exit 1
  fi
}

install_missing() {
  local pkgs=()
  command -v dockerd >/dev/null || pkgs+=(docker.io)
  [ -x /bin/busybox ] || command -v busybox >/dev/null || pkgs+=(busybox-static)
  command -v bpftrace >/dev/null || pkgs+=(bpftrace)
  command -v tmux >/dev/null || pkgs+=(tmux)
  if [ "${#pkgs[@]}" -gt 0 ]; then
    log "installing ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
}

# The docker client that talks to the private engine: Debian's (same version as dockerd) when present.
docker_cli() {
  if [ -x /usr/bin/docker ]; then /usr/bin/docker -H "unix://$SOCK" "$@"; else docker -H "unix://$SOCK" "$@"; fi
}

mount_tracefs() {
  if [ ! -e /sys/kernel/tracing/events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || log "could not mount tracefs (eBPF tests will fail)"
  fi
}

engine_up() { [ -S "$SOCK" ] && docker_cli version >/dev/null 2>&1; }

start_engine() {
  if engine_up; then return 0; fi
  mkdir -p "$ENV_DIR/data" "$RUN_DIR/exec"
  chmod 700 "$ENV_DIR" "$RUN_DIR"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  # cgroupfs driver: no systemd here. No iptables: test traffic stays on the bridge and loopback.
  nohup dockerd --data-root "$ENV_DIR/data" --exec-root "$RUN_DIR/exec" --pidfile "$PIDFILE" \
    -H "unix://$SOCK" --bridge "$BRIDGE" --iptables=false --ip-masq=false --ip6tables=false \
    --exec-opt native.cgroupdriver=cgroupfs >"$ENV_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 150); do
    if engine_up; then return 0; fi
    sleep 0.2
  done
  log "dockerd did not come up; last lines of $ENV_DIR/dockerd.log:"
  tail -20 "$ENV_DIR/dockerd.log" >&2
  exit 1
}

stop_engine() {
  if [ -f "$PIDFILE" ]; then
    local pid; pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
  fi
}

import_image() {
  if docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then return 0; fi
  local bb; bb="$(command -v busybox || echo /bin/busybox)"
  local rootfs; rootfs="$(mktemp -d)"
  mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/run}
  cp "$bb" "$rootfs/bin/busybox"
  for applet in $("$bb" --list-full 2>/dev/null || "$bb" --list); do
    case "$applet" in */*) target="$rootfs/$applet" ;; *) target="$rootfs/bin/$applet" ;; esac
    [ -e "$target" ] || ln -s /bin/busybox "$target"
  done
  chmod 1777 "$rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' >"$rootfs/etc/shadow"
  chmod 640 "$rootfs/etc/shadow"
  tar -C "$rootfs" -c . | docker_cli import -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  rm -rf "$rootfs"
  log "imported $IMAGE"
}

print_env() {
  echo "export DOCKER_HOST=unix://$SOCK"
  echo "export DASHCAM_TEST_IMAGE=$IMAGE"
  echo "export DASHCAM_TEST_ENV=$ROOT/scripts/test-env.sh"
  [ -x /usr/bin/docker ] && echo "export PATH=/usr/bin:\$PATH"
  return 0
}

cmd="${1:-up}"
case "$cmd" in
  up)
    need_root; install_missing; mount_tracefs; start_engine; import_image
    print_env >"$ENV_DIR/env"
    log "engine ready at unix://$SOCK"
    ;;
  down) need_root; stop_engine ;;
  stop-engine) need_root; stop_engine ;;
  start-engine) need_root; start_engine ;;
  restart-engine) need_root; stop_engine; start_engine ;;
  env) print_env ;;
  *) log "unknown command: $cmd"; exit 2 ;;
esac
