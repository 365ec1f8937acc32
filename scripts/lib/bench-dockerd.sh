# Sourced by scripts/bench-docker after bench-lab.sh: installs Debian's
# docker.io when missing, starts a private dockerd inside a lab network
# namespace and a private mount namespace, and takes all of it down again.
# Expects DOCKER and DOCKERD (the Debian binaries) and, once the lab exists,
# BENCH_ID and BENCH_ROOT.

# Paths a dockerd or containerd uses by default: which of them the machine has
# before the daemon starts (after the install); none may appear because of it.
BENCH_DOCKER_HOST_PATHS="/etc/docker/key.json /var/lib/docker /var/lib/containerd /run/docker /run/containerd /run/docker.sock /var/run/docker.sock"
docker_record_machine_paths() {
  BENCH_DOCKER_HOST_PATHS_BEFORE=$(for p in $BENCH_DOCKER_HOST_PATHS; do [ -e "$p" ] && echo "$p"; done || true)
}

# Installs docker.io unless dockerd and the CLI are there; no service may start meanwhile.
docker_install() {
  [ -x "$DOCKERD" ] && [ -x "$DOCKER" ] && return 0
  command -v apt-get >/dev/null || return 1
  echo "bench-docker: installing Debian's docker.io (apt-get install --no-install-recommends docker.io)" >&2
  (
    set -e
    trap 'exit 130' INT TERM
    policy=/usr/sbin/policy-rc.d
    saved=$(mktemp -d)
    [ -e "$policy" ] && cp -a "$policy" "$saved/"
    # Put the machine's own policy back (or remove ours) whatever happens to the install.
    trap 'if [ -e "$saved/policy-rc.d" ]; then mv -f "$saved/policy-rc.d" "$policy"; else rm -f "$policy"; fi; rmdir "$saved"' EXIT
    printf '#!/bin/sh\n# bench-docker: no service starts while docker.io installs\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    export DEBIAN_FRONTEND=noninteractive
    install() { apt-get install -y -q --no-install-recommends docker.io >&2; }
    install || { apt-get update -q >&2 && install; }
  ) || return 1
  # systemd would start docker.socket (and with it a dockerd in the machine's namespaces) on the next boot or socket hit.
  if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then
    systemctl stop docker.socket docker.service containerd.service >/dev/null 2>&1 || true
    systemctl mask docker.socket docker.service containerd.service >&2 || true
  fi
  [ -x "$DOCKERD" ] && [ -x "$DOCKER" ]
}

# Starts dockerd in a new lab namespace ($BENCH_ID-docker) and its own mount
# namespace; returns non-zero when it does not answer within 60 s.
# Sets DOCKERD_PID, DOCKER_HOST, DOCKER_CONFIG, DOCKER_NETNS, DOCKER_CGROUP.
dockerd_start() {
  docker_record_machine_paths
  DOCKER_NETNS="$BENCH_ID-docker"
  DOCKER_CGROUP="$BENCH_ID-docker"
  DOCKER_DIR="$BENCH_ROOT/docker" # short: the sockets under it must stay within 108 bytes
  mkdir -p "$DOCKER_DIR"/{data,exec,cli,cg,ovl}
  echo '{}' >"$DOCKER_DIR/daemon.json" # never the machine's /etc/docker/daemon.json
  DOCKER_HOST="unix://$DOCKER_DIR/docker.sock"
  DOCKER_CONFIG="$DOCKER_DIR/cli" # the CLI's config, not ~/.docker
  export DOCKER_HOST DOCKER_CONFIG
  ip netns add "$DOCKER_NETNS"
  ip -n "$DOCKER_NETNS" link set lo up
  DOCKERD_MNTNS_OURS=$(readlink /proc/self/ns/mnt)
  # Inside the new mount namespace (private propagation: nothing mounted there
  # shows outside, and all of it goes when its last process ends):
  #  - a tmpfs on /run: dockerd finds no system containerd socket there and
  #    starts its own; containerd's shim sockets (/run/containerd/s) stay private;
  #  - a tmpfs on /etc/docker when the machine has one (dockerd writes key.json there);
  #  - a fresh sysfs made from inside the lab namespace, so /sys/class/net shows
  #    the lab's links, with the machine's cgroup hierarchies moved back under it
  #    (and no securityfs under it: dockerd sees AppArmor as off and loads no
  #    profile into the kernel);
  #  - overlay2 when an overlay mounts on this filesystem, else vfs.
  nsenter --net="/run/netns/$DOCKER_NETNS" unshare --mount --propagation private sh -ec '
    d=$1; shift
    mount -t tmpfs -o mode=0755 bench-docker-run /run
    [ -d /etc/docker ] && mount -t tmpfs -o mode=0755 bench-docker-etc /etc/docker
    mount --rbind /sys/fs/cgroup "$d/cg"
    mount -t sysfs sysfs /sys
    mount --move "$d/cg" /sys/fs/cgroup
    mkdir -p "$d/ovl/l" "$d/ovl/u" "$d/ovl/w" "$d/ovl/m"
    if mount -t overlay overlay -o "lowerdir=$d/ovl/l,upperdir=$d/ovl/u,workdir=$d/ovl/w" "$d/ovl/m" 2>/dev/null; then
      umount "$d/ovl/m"; driver=overlay2
    else
      driver=vfs
    fi
    echo "$driver" >"$d/storage-driver"
    exec "$@" --storage-driver "$driver"
  ' sh "$DOCKER_DIR" "$DOCKERD" \
    --config-file "$DOCKER_DIR/daemon.json" \
    --data-root "$DOCKER_DIR/data" \
    --exec-root "$DOCKER_DIR/exec" \
    --pidfile "$DOCKER_DIR/dockerd.pid" \
    -H "$DOCKER_HOST" \
    --cgroup-parent "/$DOCKER_CGROUP" \
    >"$DOCKER_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local deadline=$((SECONDS + 60))
  until "$DOCKER" version >/dev/null 2>&1; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "bench-docker: dockerd did not answer; the end of its log:" >&2
      tail -n 15 "$DOCKER_DIR/dockerd.log" >&2
      return 1
    fi
    sleep 0.2
  done
  DOCKERD_MNTNS=$(readlink "/proc/$DOCKERD_PID/ns/mnt")
}

# Refuses to go on unless the daemon is the one this run started, where it was started.
dockerd_check_isolation() {
  local lab_net docker_net containerd
  lab_net=$(stat -L -c 'net:[%i]' "/run/netns/$DOCKER_NETNS")
  docker_net=$(readlink "/proc/$DOCKERD_PID/ns/net")
  [ "$lab_net" = "$docker_net" ] || { echo "bench-docker: dockerd is not in its lab namespace" >&2; exit 1; }
  [ "$DOCKERD_MNTNS" != "$DOCKERD_MNTNS_OURS" ] || { echo "bench-docker: dockerd shares this shell's mount namespace" >&2; exit 1; }
  # Its containerd: a child of this dockerd, configured under this run's exec root (not a system containerd).
  containerd=$(ps -o pid=,args= --ppid "$DOCKERD_PID" | awk '$2 ~ /containerd$/' || true)
  case "$containerd" in
    *"--config $DOCKER_DIR/exec/containerd/"*) ;;
    *) echo "bench-docker: dockerd is not running its own containerd (found: ${containerd:-none})" >&2; exit 1 ;;
  esac
  # And every containerd socket it dialled is that one's.
  local dialled
  dialled=$(grep -o 'new address \\"unix://[^\\"]*' "$DOCKER_DIR/dockerd.log" | sed 's|.*unix://||' | sort -u || true)
  if [ -z "$dialled" ] || grep -qv "^$DOCKER_DIR/exec/containerd/" <<<"$dialled"; then
    echo "bench-docker: dockerd dialled containerd sockets outside its exec root: ${dialled:-none seen}" >&2
    exit 1
  fi
  local info
  info=$("$DOCKER" info --format '{{.Name}} {{.DockerRootDir}} {{.Driver}} {{.CgroupDriver}}')
  case "$info" in
    *" $DOCKER_DIR/data "*) ;;
    *) echo "bench-docker: the daemon answering is not this run's ($info)" >&2; exit 1 ;;
  esac
}

# The busybox root filesystem plumb's busybox label uses, imported as bench/busybox.
docker_import_busybox() {
  local rootfs="${PLUMB_ROOTFS_DIR:-/usr/local/lib/plumb/rootfs}/busybox"
  tar -C "$rootfs" -c . | "$DOCKER" import - bench/busybox >/dev/null
}

# With BENCH_DOCKER_STATE=DIR: Docker's lab after one `docker run -d -p 8080:80`
# (iptables-save, links, addresses, sysctls), for comparing with the reference.
docker_save_state() {
  local out=$1
  mkdir -p "$out"
  "$DOCKER" run -d --name state -p 8080:80 bench/busybox sleep 3600 >/dev/null
  nsenter --net="/run/netns/$DOCKER_NETNS" sh -c '
    iptables-save >"$1/iptables-save"
    ip6tables-save >"$1/ip6tables-save"
    ip -d link show >"$1/ip-link"
    ip addr >"$1/ip-addr"
    ip route >"$1/ip-route"
    sysctl net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables >"$1/sysctl"
  ' sh "$out"
  ps -o pid=,args= --ppid "$DOCKERD_PID" >"$out/dockerd-children"
  cp "$DOCKER_DIR/dockerd.log" "$out/"
  cp "$DOCKER_DIR/storage-driver" "$out/"
  "$DOCKER" rm -f state >/dev/null
}

# Every process of this daemon: itself, what its mount namespace holds
# (containerd, the shims) and what its cgroup holds (the containers).
dockerd_pids() {
  local pid
  [ -n "${DOCKER_CGROUP:-}" ] || return 0
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$pid" = "$$" ] && continue
    if [ -n "${DOCKERD_MNTNS:-}" ] && [ "$DOCKERD_MNTNS" != "$DOCKERD_MNTNS_OURS" ] &&
      [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$DOCKERD_MNTNS" ]; then echo "$pid"; fi
  done
  cat /sys/fs/cgroup/*/"$DOCKER_CGROUP"/tasks /sys/fs/cgroup/*/"$DOCKER_CGROUP"/*/tasks \
    /sys/fs/cgroup/"$DOCKER_CGROUP"/cgroup.procs /sys/fs/cgroup/*/"$DOCKER_CGROUP"/cgroup.procs \
    /sys/fs/cgroup/*/"$DOCKER_CGROUP"/*/cgroup.procs /sys/fs/cgroup/"$DOCKER_CGROUP"/*/cgroup.procs 2>/dev/null || true
}

# Takes the daemon down: its containers, then dockerd by its PID (it stops its
# containerd), then whatever outlived it, then its cgroups.
dockerd_stop() {
  [ -n "${DOCKERD_PID:-}" ] || return 0
  local ids pid left
  # Not yet known when the daemon never answered; still this shell's while nsenter had not run unshare yet.
  [ -n "${DOCKERD_MNTNS:-}" ] || DOCKERD_MNTNS=$(readlink "/proc/$DOCKERD_PID/ns/mnt" 2>/dev/null)
  if kill -0 "$DOCKERD_PID" 2>/dev/null; then
    ids=$(timeout 30 "$DOCKER" ps -aq 2>/dev/null || true)
    [ -z "$ids" ] || timeout 60 "$DOCKER" rm -f $ids >/dev/null 2>&1 || true
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DOCKERD_PID" 2>/dev/null
  fi
  wait "$DOCKERD_PID" 2>/dev/null
  for _ in $(seq 100); do
    left=$(dockerd_pids | sort -u)
    [ -n "$left" ] || break
    for pid in $left; do kill -KILL "$pid" 2>/dev/null; done
    sleep 0.1
  done
  [ -z "$left" ] || echo "bench-docker: processes of dockerd still running: $left" >&2
  local cg
  for cg in /sys/fs/cgroup/*/"$DOCKER_CGROUP" /sys/fs/cgroup/"$DOCKER_CGROUP"; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
  done
}

# Whatever this run made and the lab cleanup must have removed: namespaces,
# mounts (in any process), cgroups, processes, files in the machine's paths.
bench_docker_verify() {
  local leaks=() p
  [ -z "$(ip netns list | awk '{print $1}' | grep "^$BENCH_ID-" || true)" ] || leaks+=("namespaces $BENCH_ID-*")
  if grep -l "$BENCH_ROOT" /proc/[0-9]*/mountinfo >/dev/null 2>&1; then leaks+=("mounts under $BENCH_ROOT"); fi
  [ -z "$(ls -d /sys/fs/cgroup/*/"${DOCKER_CGROUP:-none}" /sys/fs/cgroup/"${DOCKER_CGROUP:-none}" 2>/dev/null)" ] || leaks+=("cgroups $DOCKER_CGROUP")
  [ -z "$(dockerd_pids)" ] || leaks+=("dockerd processes")
  for p in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$p" = "$$" ] && continue
    if { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q "$BENCH_ROOT"; then leaks+=("process $p"); fi
  done
  [ ! -e "$BENCH_ROOT" ] || leaks+=("$BENCH_ROOT")
  for p in $BENCH_DOCKER_HOST_PATHS; do
    [ -n "${BENCH_DOCKER_HOST_PATHS_BEFORE+recorded}" ] || break
    if [ -e "$p" ] && ! grep -qx "$p" <<<"$BENCH_DOCKER_HOST_PATHS_BEFORE"; then leaks+=("$p (new on the machine)"); fi
  done
  if [ ${#leaks[@]} -eq 0 ]; then
    echo "bench-docker: cleanup checked: no namespace, mount, cgroup, process or file of this run is left"
  else
    echo "bench-docker: LEFT BEHIND: ${leaks[*]}" >&2
    return 1
  fi
}

# EXIT trap: the daemon first, then the lab (bench-lab.sh), then the check.
bench_docker_cleanup() {
  local rc=$?
  set +eu
  trap '' INT TERM
  dockerd_stop
  (exit $rc)
  (bench_lab_cleanup)
  rc=$?
  bench_docker_verify || rc=1
  exit $rc
}
