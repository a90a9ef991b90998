#!/usr/bin/env bash
# Distributed tracing of retries, end to end, in a real Jaeger.
#
#   e2e/run.sh                  build, run, check through Jaeger's API, screenshot
#   e2e/run.sh --update-docs    the same, and replace docs/jaeger-trace.png
#   E2E_SCREENSHOT=0 e2e/run.sh no screenshot (and no Chromium install)
#
# 1. builds Jaeger v1.76.0 (the all-in-one, from the Go module proxy, as a
#    Go tool dependency of e2e/jaeger) and the e2e programs into e2e/.out/bin;
# 2. starts Jaeger on 127.0.0.1 with in-memory storage (e2e/jaeger/config.yaml:
#    OTLP 4317 and 4318, query API and UI 16686, query gRPC 16685, health
#    13133) and waits until it is healthy and its query API answers;
# 3. starts awsfake-server (service awsfake-ec2: the local AWS-compatible
#    endpoint behind otelhttp) on a free loopback port, runs e2e-client
#    (service awsretry-e2e-client: the real EC2 client, otelhttp transport,
#    two calls inside awsretry's Do, a third through a client configured
#    with the awssdk adapter and traced by the SDK) against it, then stops
#    the server, which flushes its spans;
# 4. checks the trace through Jaeger's /api/traces (go test -run
#    TestLiveJaeger ./tracecheck), polling for up to 30 s;
# 5. unless E2E_SCREENSHOT=0: renders the trace from Jaeger's API into a page
#    (cmd/traceview) and has headless Chromium (Debian's chromium, installed
#    here if missing) save e2e/.out/jaeger-trace.png.
#
# Whatever happens, every process it started is stopped, with its process
# group, and it waits until Jaeger's ports are free again.
#
# E2E_SERVER_NOT_FOUND=N makes the endpoint answer NotFound N times instead
# of 3, which the check does not expect: a way to see it fail.
set -euo pipefail

cd "$(dirname "$0")"
E2E=$PWD
ROOT=$(cd .. && pwd)
OUT=$E2E/.out
BIN=$OUT/bin
export PATH="/usr/local/go/bin:$PATH"

JAEGER_HOST=127.0.0.1
JAEGER_PORTS=(4317 4318 13133 16685 16686)
JAEGER_URL=http://$JAEGER_HOST:16686
HEALTH_URL=http://$JAEGER_HOST:13133/status
SCREENSHOT=${E2E_SCREENSHOT:-1}
UPDATE_DOCS=0
for arg in "$@"; do
	case $arg in
	--update-docs) UPDATE_DOCS=1 ;;
	*) echo "usage: $0 [--update-docs]" >&2; exit 2 ;;
	esac
done

T0=$SECONDS
step() { printf '\n== [%3ds] %s\n' $((SECONDS - T0)) "$*"; }

# --- processes -------------------------------------------------------------

PIDS=()       # leaders of the process groups started, still to stop
SERVER_URL="" # the endpoint's base URL, once it listens

# alive PID: the process exists and is not a zombie.
alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# start NAME CMD...: runs CMD in a session and process group of its own,
# output to $OUT/NAME.log; sets LAST_PID.
start() {
	local name=$1
	shift
	setsid "$@" >"$OUT/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# run CMD...: runs CMD to its end like a foreground command, but in a
# process group of its own, which cleanup stops if the script is
# interrupted meanwhile (bash runs a trap only once a foreground command
# ends; it runs it during wait).
run() {
	setsid "$@" &
	local pid=$! rc=0
	PIDS+=("$pid")
	wait "$pid" || rc=$?
	forget "$pid"
	return $rc
}

# forget PID: drops PID from PIDS.
forget() {
	local left=() p
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || left+=("$p"); done
	PIDS=("${left[@]}")
}

# stop PID [GRACE]: SIGTERM to its process group, SIGKILL after GRACE
# seconds (default 10), then reaps it. Returns its exit status.
stop() {
	local pid=$1 grace=${2:-10} i rc=0
	kill -TERM -- "-$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		echo "process $pid still running after ${grace}s: SIGKILL" >&2
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	kill -KILL -- "-$pid" 2>/dev/null || true # any member left behind
	forget "$pid"
	return $rc
}

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ports_free PORT...: waits up to 15 s for each port to be free.
wait_ports_free() {
	local p i ok=0
	for p in "$@"; do
		for ((i = 0; i < 150; i++)); do
			port_open "$p" || break
			sleep 0.1
		done
		if port_open "$p"; then
			echo "port $p is still in use" >&2
			ok=1
		fi
	done
	return $ok
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	local pid
	for pid in "${PIDS[@]}"; do
		stop "$pid" 10 >/dev/null 2>&1
	done
	local ports=("${JAEGER_PORTS[@]}")
	[[ -n $SERVER_URL ]] && ports+=("${SERVER_URL##*:}")
	if ! wait_ports_free "${ports[@]}"; then
		rc=1
	fi
	if ((rc == 0)); then
		step "e2e passed; every process stopped, ports ${ports[*]} free"
	else
		step "e2e FAILED (exit $rc); every process stopped, logs in $OUT"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# dump NAME: the last lines of a process's log, after a failure.
dump() { echo "--- last lines of $OUT/$1.log" >&2; tail -n 40 "$OUT/$1.log" >&2 || true; }

# --- 1. build --------------------------------------------------------------

mkdir -p "$BIN"
rm -f "$OUT"/*.log "$OUT/endpoint" "$OUT/trace-id" "$OUT/trace.json" "$OUT/trace.html" "$OUT/jaeger-trace.png"

step "build Jaeger v1.76.0 (go tool dependency of e2e/jaeger)"
run go -C jaeger build -o "$BIN/jaeger" github.com/jaegertracing/jaeger/cmd/jaeger
go version -m "$BIN/jaeger" | awk '$1 == "path" || ($1 == "mod" && $2 ~ /jaeger$/)' || true
step "build awsfake-server, e2e-client, traceview"
run go build -o "$BIN/" ./cmd/...

# --- 2. Jaeger ---------------------------------------------------------------

for p in "${JAEGER_PORTS[@]}"; do
	if port_open "$p"; then
		echo "127.0.0.1:$p is already in use: is another Jaeger running?" >&2
		exit 1
	fi
done

step "start Jaeger on $JAEGER_HOST (in-memory storage)"
start jaeger "$BIN/jaeger" --config "$E2E/jaeger/config.yaml"
JAEGER_PID=$LAST_PID
ready=0
for ((i = 0; i < 600; i++)); do # 60 s
	if ! alive "$JAEGER_PID"; then
		echo "Jaeger exited during startup" >&2
		dump jaeger
		exit 1
	fi
	if curl -fsS -o /dev/null "$HEALTH_URL" 2>/dev/null &&
		curl -fsS -o /dev/null "$JAEGER_URL/api/services" 2>/dev/null; then
		ready=1
		break
	fi
	sleep 0.1
done
if ((ready == 0)); then
	echo "Jaeger not ready after 60 s" >&2
	dump jaeger
	exit 1
fi
echo "healthy: $(curl -fsS "$HEALTH_URL")"
echo "listening: $(ss -ltnH 2>/dev/null | awk '{print $4}' | grep -E ':(4317|4318|13133|16685|16686)$' | sort | tr '\n' ' ' || true)"

# --- 3. the scenario ---------------------------------------------------------

step "start awsfake-server (service awsfake-ec2)"
server_args=(-url-file "$OUT/endpoint")
if [[ -n ${E2E_SERVER_NOT_FOUND:-} ]]; then
	server_args+=(-not-found "$E2E_SERVER_NOT_FOUND")
	echo "E2E_SERVER_NOT_FOUND=$E2E_SERVER_NOT_FOUND: the check expects 3"
fi
start awsfake-server "$BIN/awsfake-server" "${server_args[@]}"
SERVER_PID=$LAST_PID
for ((i = 0; i < 100; i++)); do # 10 s
	[[ -s $OUT/endpoint ]] && break
	if ! alive "$SERVER_PID"; then
		dump awsfake-server
		exit 1
	fi
	sleep 0.1
done
if [[ ! -s $OUT/endpoint ]]; then
	echo "awsfake-server did not start" >&2
	dump awsfake-server
	exit 1
fi
SERVER_URL=$(<"$OUT/endpoint")
echo "endpoint: $SERVER_URL"

step "run e2e-client (service awsretry-e2e-client)"
if ! run "$BIN/e2e-client" -endpoint "$SERVER_URL" -trace-id-file "$OUT/trace-id"; then
	dump awsfake-server
	exit 1
fi
TRACE_ID=$(<"$OUT/trace-id")

step "stop awsfake-server (flushes its spans)"
if ! stop "$SERVER_PID" 15; then
	echo "awsfake-server failed" >&2
	dump awsfake-server
	exit 1
fi
cat "$OUT/awsfake-server.log"

# --- 4. the check ------------------------------------------------------------

step "check trace $TRACE_ID through $JAEGER_URL/api/traces"
run env E2E_JAEGER_URL="$JAEGER_URL" E2E_TRACE_ID="$TRACE_ID" E2E_TRACE_OUT="$OUT/trace.json" \
	go test -count=1 -run '^TestLiveJaeger$' -v ./tracecheck

# --- 5. the picture ----------------------------------------------------------

if [[ $SCREENSHOT == 0 ]]; then
	step "screenshot skipped (E2E_SCREENSHOT=0)"
	exit 0
fi

step "screenshot of the trace in headless Chromium"
if ! command -v chromium >/dev/null; then
	echo "installing Debian's chromium"
	run apt-get update -qq
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
chromium --version 2>/dev/null
run "$BIN/traceview" -jaeger "$JAEGER_URL" -trace "$TRACE_ID" -o "$OUT/trace.html"
PROFILE=$(mktemp -d)
start chromium chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--disable-crash-reporter --user-data-dir="$PROFILE" --hide-scrollbars \
	--window-size=1600,860 --screenshot="$OUT/jaeger-trace.png" "file://$OUT/trace.html"
CHROMIUM_PID=$LAST_PID
for ((i = 0; i < 1200; i++)); do # 120 s
	alive "$CHROMIUM_PID" || break
	sleep 0.1
done
if ! stop "$CHROMIUM_PID" 5 || [[ ! -s $OUT/jaeger-trace.png ]]; then
	rm -rf "$PROFILE"
	echo "Chromium saved no screenshot" >&2
	dump chromium
	exit 1
fi
rm -rf "$PROFILE"
ls -l "$OUT/jaeger-trace.png"
if ((UPDATE_DOCS)); then
	mkdir -p "$ROOT/docs"
	cp "$OUT/jaeger-trace.png" "$ROOT/docs/jaeger-trace.png"
	echo "updated docs/jaeger-trace.png"
fi
