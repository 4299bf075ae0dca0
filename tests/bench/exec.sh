#!/bin/sh
# tests/bench/exec.sh [NUB_BIN]: client CPU per GiB streamed from the hub pod's stdout,
# kubectl-nublado (exec over WebSocket, via `psql -c '\! head ...'`) against real
# kubectl 1.32 `exec` (same cluster, same run, interleaved), and peak RSS of each.
#
# Environment: SIM_DIR to use a running test cluster (else one is started and stopped),
# BENCH_GIB (default 1), BENCH_RUNS (default 3; medians are reported),
# KUBECTL (default /usr/lib/google-cloud-sdk/bin/kubectl.1.32).
# A figure, not a test: it fails only when a client fails or loses bytes.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
nub=${1:-$top/build/kubectl-nublado}
kubectl=${KUBECTL:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}
gib=${BENCH_GIB:-1}
runs=${BENCH_RUNS:-3}
bytes=$((gib * 1073741824))
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }
[ -x "$kubectl" ] || { echo "bench: no kubectl at $kubectl (set KUBECTL)" >&2; exit 1; }
[ -x "$nub" ] || { echo "bench: no kubectl-nublado at $nub (make build/kubectl-nublado)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/nub-bench.XXXXXX)
own=""
cleanup() {
	if [ -n "$own" ]; then "$top/tests/cluster/cluster" down "$own" >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ -z "${SIM_DIR:-}" ]; then
	own=$tmp/sim
	mkdir -p "$own"
	chmod 755 "$tmp" "$own"
	"$top/tests/cluster/cluster" up "$own" >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; exit 1; }
	SIM_DIR=$own
fi
# shellcheck disable=SC1091
. "$SIM_DIR/env"
export KUBECONFIG="$SIM_DIR/kubeconfig"
pod=$("$kubectl" get pods -n nublado -l app=jupyterhub,component=hub \
	--field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')
[ -n "$pod" ] || { echo "bench: no hub pod" >&2; exit 1; }

# One run: "user sys maxrss_kb wall" on stdout; checks the byte count.
measure() {
	name=$1
	shift
	/usr/bin/time -o "$tmp/time" -f '%U %S %M %e' "$@" 2>"$tmp/err" | wc -c >"$tmp/count" ||
		true
	got=$(cat "$tmp/count")
	if [ "$got" != "$bytes" ]; then
		echo "bench: $name delivered $got bytes, want $bytes" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	tail -n 1 "$tmp/time"
}

echo "streaming $gib GiB of stdout from pod $pod, $runs runs each (interleaved), medians:"
: >"$tmp/nub"
: >"$tmp/kubectl"
i=0
while [ $i -lt "$runs" ]; do
	measure kubectl-nublado "$nub" --kubeconfig "$KUBECONFIG" psql --db-url "$SIM_DB_URL_NOPW" \
		-c "\\! head -c $bytes /dev/zero" >>"$tmp/nub"
	measure kubectl "$kubectl" exec -n nublado "$pod" -c hub -- head -c "$bytes" /dev/zero \
		>>"$tmp/kubectl"
	i=$((i + 1))
done

# Medians (by CPU) and the ratios.
awk -v gib="$gib" -v runs="$runs" '
function median_line(file,   n, i, j, t, cpu, line) {
	n = 0
	while ((getline line < file) > 0) {
		split(line, f, " ")
		n++; cpu[n] = f[1] + f[2]; l[n] = line
	}
	close(file)
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (cpu[j] < cpu[i]) {
		t = cpu[i]; cpu[i] = cpu[j]; cpu[j] = t; t = l[i]; l[i] = l[j]; l[j] = t }
	return l[int((n + 1) / 2)]
}
BEGIN {
	split(median_line(ARGV[1]), a, " "); split(median_line(ARGV[2]), b, " ")
	ca = (a[1] + a[2]) / gib; cb = (b[1] + b[2]) / gib
	printf "%-16s %12s %10s %10s %10s %12s\n", "client", "CPU s/GiB", "user s", "sys s", "wall s", "peak RSS MiB"
	printf "%-16s %12.3f %10.2f %10.2f %10.2f %12.1f\n", "kubectl-nublado", ca, a[1], a[2], a[4], a[3] / 1024
	printf "%-16s %12.3f %10.2f %10.2f %10.2f %12.1f\n", "kubectl 1.32", cb, b[1], b[2], b[4], b[3] / 1024
	printf "ratio (nublado/kubectl): CPU per GiB %.2fx (goal <= 0.50x), peak RSS %.2fx\n",
	    (cb > 0 ? ca / cb : 0), (b[3] > 0 ? a[3] / b[3] : 0)
	exit 0
}' "$tmp/nub" "$tmp/kubectl"
