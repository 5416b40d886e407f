#!/usr/bin/env bash
# The local-DoS check of `mse-auth serve` (run by hand; cli/tests/serve.rs keeps a 2,000-connection
# version): 20,000 idle connections from two processes of 10,000 (each under the usual 20,000
# descriptor limit), a legitimate client timed while they are opened and once they are all open, and
# serve's descriptors counted. Everything listens on 127.0.0.1; all it starts is stopped on exit.
#
#   cargo build --release -p mse-auth-cli && scripts/serve_idle_flood.sh [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-20000}"
per=$((total / 2))
bin="${CARGO_TARGET_DIR:-target}/release/mse-auth"
[ -x "$bin" ] || { echo "build first: cargo build --release -p mse-auth-cli" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required for the idle clients" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is required for the legitimate client" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The emulator's STS, and a ram_role_arn profile on its demo AccessKey.
"$bin" emulator --lifetime 3600 > "$work/emulator.env" 2> "$work/emulator.err" &
pids+=($!)
until grep -q '^export ALIBABA_CLOUD_STS_ENDPOINT=' "$work/emulator.env" 2>/dev/null; do sleep 0.1; done
sts="$(sed -n 's/^export ALIBABA_CLOUD_STS_ENDPOINT=//p' "$work/emulator.env")"
mkdir -p "$work/home/.alibabacloud"
printf '[default]\ntype = ram_role_arn\naccess_key_id = LTAI5tEmulatorDemoKey\naccess_key_secret = %s\nrole_arn = %s\n' \
  emulator-demo-secret acs:ram::1234567890123456:role/flood > "$work/home/.alibabacloud/credentials"

env -i HOME="$work/home" ALIBABA_CLOUD_STS_ENDPOINT="$sts" \
  ALIBABA_CLOUD_ECS_METADATA_ENDPOINT=http://127.0.0.1:9 "$bin" serve > "$work/uri" 2> "$work/serve.err" &
serve=$!
pids+=("$serve")
while kill -0 "$serve" 2>/dev/null && [ ! -s "$work/uri" ]; do sleep 0.1; done
uri="$(sed 's/^export ALIBABA_CLOUD_CREDENTIALS_URI=//' "$work/uri")"
port="$(echo "$uri" | sed 's#^http://127.0.0.1:\([0-9]*\)/.*#\1#')"
echo "serve pid $serve on port $port; ulimit -n $(ulimit -n); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# N idle connections, opened one after another; reports on stdout, holds them until stdin closes.
cat > "$work/idle.py" <<'EOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held, slow, start = [], 0, time.time()
for i in range(n):
    t = time.time()
    held.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    slow += time.time() - t > 0.5
print("opened %d in %.2fs (%d connects over 0.5 s)" % (n, time.time() - start, slow), flush=True)
for s in held:
    s.setblocking(False)
while sys.stdin.readline():  # one line: count the connections serve has closed
    closed = 0
    for s in held:
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except ConnectionResetError:
            closed += 1
    print("%d of %d closed by serve" % (closed, n), flush=True)
EOF

# Asks both idle clients how many of their connections serve has closed.
asked=0
closed_now() {
  asked=$((asked + 1))
  echo >&3
  echo >&4
  until [ "$(wc -l < "$work/a.out")" -gt "$asked" ] && [ "$(wc -l < "$work/b.out")" -gt "$asked" ]; do
    sleep 0.1
  done
  echo "$(tail -n1 "$work/a.out"); $(tail -n1 "$work/b.out")"
}
legit() { curl -s -o /dev/null -w '%{http_code} %{time_total}s' --max-time 10 "$uri"; }
mkfifo "$work/a" "$work/b"
python3 "$work/idle.py" "$port" "$per" < "$work/a" > "$work/a.out" &
pids+=($!)
exec 3> "$work/a"
python3 "$work/idle.py" "$port" "$per" < "$work/b" > "$work/b.out" &
pids+=($!)
exec 4> "$work/b"
echo "while the idle connections open:"
for i in 1 2 3 4 5; do echo "  legit: $(legit)"; sleep 0.3; done
until [ -s "$work/a.out" ] && [ -s "$work/b.out" ]; do sleep 0.2; done
echo "idle clients: $(head -n1 "$work/a.out"); $(head -n1 "$work/b.out")"
echo "with $total idle connections open:"
for i in 1 2 3 4 5; do echo "  legit: $(legit)"; done
echo "serve: $(ls /proc/$serve/fd | wc -l) descriptors, $(sed -n 's/^VmRSS:\s*//p' /proc/$serve/status) resident"
echo -n "idle clients right after: "; closed_now
sleep 6  # past the 5 s header timeout
echo -n "idle clients 6 s later: "; closed_now
grep -v '^mse-auth: serving' "$work/serve.err" || true
