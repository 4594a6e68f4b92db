#!/usr/bin/env bash
# Import benchmark (issue: foundation). Generates the demo company's export files once
# (1,000,000 customers, about 10,000,000 orders by default), then, in one run:
#   1. winback imports customers.csv and orders.csv into a fresh SQLite file
#      (wall time, rows/s and peak RSS from /usr/bin/time);
#   2. DuckDB reads the same orders.csv and computes per-customer count/first/last/sum.
# Usage: bench/import.sh [CUSTOMERS]   (BENCH_DIR=/tmp/winback-bench by default)
# DuckDB comes from PyPI into a virtual environment outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
dir=${BENCH_DIR:-/tmp/winback-bench}
venv=${BENCH_VENV:-$dir/venv}
mkdir -p "$dir"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q duckdb; }

cargo build --release -q -p winback
bin=$PWD/target/release/winback
demo=$dir/demo-$n
if [ ! -f "$demo/orders.csv" ]; then
  /usr/bin/time -f "demo files: %e s wall, %M KB peak RSS" \
    "$bin" demo --customers "$n" --seed 1 --as-of 2026-11-24 --out "$demo" --no-import
fi
rows=$(($(wc -l < "$demo/orders.csv") - 1))
bytes=$(stat -c %s "$demo/orders.csv")
echo "orders.csv: $rows rows, $((bytes / 1048576)) MiB"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

db=$dir/bench.db
rm -f "$db" "$db-wal" "$db-shm"
"$bin" --db "sqlite://$db" import customers "$demo/customers.csv" >/dev/null 2>&1
# Write back what earlier steps left dirty, so that neither tool pays for it.
sync
start=$(date +%s.%N)
/usr/bin/time -o "$dir/time.txt" -f "%e %M" "$bin" --db "sqlite://$db" import orders "$demo/orders.csv" >/dev/null 2>&1
read -r wall rss < "$dir/time.txt"
echo "winback import orders (SQLite): $wall s, $(python3 -c "print(round($rows / $wall))") rows/s, peak RSS $((rss / 1024)) MiB"

"$venv/bin/python" - "$demo/orders.csv" <<'PY'
import sys, time
import duckdb
path = sys.argv[1]
start = time.perf_counter()
con = duckdb.connect()
rows = con.execute(
    """
    select Kundennummer, count(*), min(Bestelldatum), max(Bestelldatum), sum(Bruttobetrag)
    from read_csv(?, delim = ';', header = true, decimal_separator = ',',
                  timestampformat = '%d.%m.%Y %H:%M:%S', encoding = 'latin-1',
                  types = {'Bruttobetrag': 'DECIMAL(18,2)', 'Bestelldatum': 'TIMESTAMP'})
    group by Kundennummer
    """,
    [path],
).fetchall()
elapsed = time.perf_counter() - start
print(f"duckdb {duckdb.__version__} read + per-customer count/first/last/sum: {elapsed:.2f} s ({len(rows)} customers)")
PY
