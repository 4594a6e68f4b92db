#!/usr/bin/env bash
# Page latency (issue: web application): the customer list and a customer page on a large
# database, measured over N requests each with curl, reported as p50/p99/max.
# The times are taken on the client (curl's time_total over loopback), so they are an
# upper bound of the server-side time.
# Usage: bench/pages.sh DB_URL [N]   e.g. bench/pages.sh sqlite:///tmp/winback-bench/full.db 500
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:?database URL}
n=${2:-500}
port=${PORT:-18080}
bin=$PWD/target/release/winback
cargo build --release -q -p winback
email=bench@winback.local
password=bench-password-$$
printf '%s\n' "$password" | "$bin" --db "$db" user add --email "$email" --role manager --name Bench >/dev/null 2>&1 || true
"$bin" --db "$db" serve --listen "127.0.0.1:$port" >/tmp/winback-pages-bench.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/login" >/dev/null && break; sleep 0.2; done
cookie=$(curl -s -D - -o /dev/null -H "Origin: http://127.0.0.1:$port" \
  --data-urlencode "email=$email" --data-urlencode "password=$password" \
  "http://127.0.0.1:$port/login" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -n 1)
[ -n "$cookie" ] || { echo "login failed (is the password of $email different from an earlier run?)"; exit 1; }
measure() { # url label
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Cookie: $cookie" "$1"
  done | python3 -c "
import sys
rows = [l.split() for l in sys.stdin]
bad = [r for r in rows if r[0] != '200']
t = sorted(float(r[1]) * 1000 for r in rows)
p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print(f'$2: {len(t)} requests, {len(bad)} not 200, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {t[-1]:.1f} ms')
"
}
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
measure "http://127.0.0.1:$port/customers" "customer list (first page)"
measure "http://127.0.0.1:$port/customers?after=500000" "customer list (page after id 500000)"
measure "http://127.0.0.1:$port/customers/123457" "customer page"
