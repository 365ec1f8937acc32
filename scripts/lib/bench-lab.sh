# Shared by the scripts/bench-* wrappers (sourced, not run): a throwaway lab
# "host" network namespace and a private root directory for one benchmark run,
# removed on exit whatever happens. Nothing is created in the machine's own
# network namespace: the benchmark itself runs inside the lab host
# (`nsenter --net=`), so links, sysctls and iptables rules land there.
#
# After `bench_lab_create TAG`: BENCH_ID (prefix of every name this run makes),
# BENCH_HOST (lab host namespace name, /run/netns/$BENCH_HOST), BENCH_ROOT
# (private directory for namespace files, plumb state, CNI IPAM data).

bench_lab_cleanup() {
  local rc=$?
  set +e
  local plumb="${BENCH_TREE:-.}/bin/plumb"
  if [ -n "${BENCH_ROOT:-}" ] && [ -d "$BENCH_ROOT/plumb" ] && [ -x "$plumb" ]; then
    PLUMB_ROOT=$BENCH_ROOT/plumb PLUMB_NETNS_DIR=$BENCH_ROOT/plumb/netns-names \
      nsenter --net="/run/netns/$BENCH_HOST" node "$plumb" system reset >/dev/null 2>&1
  fi
  # Processes left in the lab namespaces (a CNI plugin or plumb interrupted midway).
  if [ -n "${BENCH_ID:-}" ]; then
    local ino pid
    for f in "/run/netns/$BENCH_HOST" $(ls -d /run/netns/"$BENCH_ID"-* 2>/dev/null); do
      [ -e "$f" ] || continue
      ino=$(stat -L -c %i "$f" 2>/dev/null) || continue
      for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$pid" = "$$" ] && continue
        if [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "net:[$ino]" ]; then kill -9 "$pid" 2>/dev/null; fi
      done
    done
  fi
  # cgroups of plumb's containers (named after the run directory, under the cgroup2 mount): what reset missed.
  if [ -n "${BENCH_ROOT:-}" ]; then
    local cg2 cg sub
    cg2=$(awk '$(NF-2) == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
    if [ -n "$cg2" ]; then
      for cg in "$cg2"/plumb$(echo "$BENCH_ROOT" | sed 's/[^A-Za-z0-9_.]\{1,\}/-/g')-*; do
        [ -d "$cg" ] || continue
        for sub in "$cg"/*/; do
          [ -f "$sub/cgroup.kill" ] || continue
          echo 1 >"$sub/cgroup.kill" 2>/dev/null
          for _ in $(seq 50); do grep -q 'populated 0' "$sub/cgroup.events" && break; sleep 0.1; done
          rmdir "$sub" 2>/dev/null
        done
        rmdir "$cg" 2>/dev/null || { echo "bench: could not remove cgroup $cg" >&2; rc=1; }
      done
    fi
  fi
  # Namespace files bind-mounted under the private root (deepest first), then the root itself.
  if [ -n "${BENCH_ROOT:-}" ]; then
    awk -v r="$BENCH_ROOT" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
      sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$BENCH_ROOT"
  fi
  # Namespaces made with `ip netns add` (the ip and CNI rows), and the lab host.
  if [ -n "${BENCH_ID:-}" ]; then
    for n in $(ip netns list | awk '{print $1}' | grep "^$BENCH_ID-"); do ip netns del "$n" 2>/dev/null; done
  fi
  local left
  left=$(ip netns list | awk '{print $1}' | grep "^${BENCH_ID:-none}-" || true)
  if [ -n "$left" ]; then echo "bench: could not remove namespaces: $left" >&2; rc=1; fi
  exit $rc
}

bench_lab_create() {
  BENCH_ID="plbbench$1$$"
  BENCH_HOST="$BENCH_ID-host"
  BENCH_ROOT="/tmp/$BENCH_ID-root"
  export BENCH_ID BENCH_HOST BENCH_ROOT
  trap bench_lab_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$BENCH_ROOT"
  # The busybox root filesystem of the image labels busybox and alpine: setup's, or one built for this run.
  if [ -z "${PLUMB_ROOTFS_DIR:-}" ] && [ ! -x /usr/local/lib/plumb/rootfs/busybox/bin/busybox ]; then
    scripts/build-rootfs "$BENCH_ROOT/rootfs/busybox" >/dev/null
    export PLUMB_ROOTFS_DIR=$BENCH_ROOT/rootfs
  fi
  ip netns add "$BENCH_HOST"
  ip -n "$BENCH_HOST" link set lo up
}

# Runs a command inside the lab host.
bench_in_lab() {
  nsenter --net="/run/netns/$BENCH_HOST" "$@"
}

# A private copy of the program to measure, in $BENCH_ROOT/tree: src compiled
# there with tsc (so a rebuild of dist/ running at the same time cannot hand
# the benchmark half-written modules), bin/ and the benchmark scripts copied,
# node_modules and the native addon linked. Sets BENCH_TREE.
bench_snapshot_tree() {
  BENCH_TREE="$BENCH_ROOT/tree"
  export BENCH_TREE
  mkdir -p "$BENCH_TREE/scripts"
  npx tsc -p tsconfig.json --outDir "$BENCH_TREE/dist" --sourceMap false ||
    echo "bench: the build reported errors; measuring what it emitted" >&2
  node scripts/bundle.mjs "$BENCH_TREE/dist/bundle"
  cp -r bin package.json "$BENCH_TREE/"
  cp -r scripts/lib "$BENCH_TREE/scripts/"
  ln -s "$PWD/node_modules" "$BENCH_TREE/node_modules"
  ln -s "$PWD/native" "$BENCH_TREE/native"
}
