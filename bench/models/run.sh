#!/usr/bin/env bash
# Side-by-side benchmark of winback's BG/NBD and Pareto/NBD fits against the Python package
# `lifetimes` 0.11.3, on the same machine, the same data and in one run (issue 5).
#
#   bench/models/run.sh            # everything, about 5 minutes (lifetimes' Pareto/NBD at 1M
#                                  # alone takes about 3)
#   WINBACK_BENCH_QUICK=1 bench/models/run.sh   # CDNOW only, for a check of the script
#
# Environment: WINBACK_BENCH_DIR (data and results, default /tmp/winback-bench),
# WINBACK_BENCH_VENV (lifetimes venv, default $WINBACK_BENCH_DIR/lifetimes-venv, created with
# python3.11 when missing). Nothing is written inside the repository.
#
# Measured: (a) lifetimes' fit() alone, data loaded (median of several fits, one at 1M for
# Pareto/NBD); (b) winback's fit alone, data loaded (examples/fit_bench.rs, median after one
# warm-up); (c) whole processes: a `python -c` that imports lifetimes, reads the CSV and fits,
# against `winback model fit --model M --summary FILE --json > /dev/null` (reads, fits, scores
# every customer and writes JSON), median of repeated runs. Both log-likelihoods are totals in
# weeks (lifetimes fits in rescaled time and reports a mean for BG/NBD: converted).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DIR=${WINBACK_BENCH_DIR:-/tmp/winback-bench}
VENV=${WINBACK_BENCH_VENV:-$DIR/lifetimes-venv}
QUICK=${WINBACK_BENCH_QUICK:-}
mkdir -p "$DIR"
RESULTS=$DIR/results.jsonl
: > "$RESULTS"

if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating $VENV (python3.11, lifetimes 0.11.3)" >&2
    python3.11 -m venv "$VENV"
    "$VENV/bin/pip" install -q "numpy<2" "pandas<2" "scipy<1.12" "autograd<1.7" lifetimes==0.11.3
fi
PY=$VENV/bin/python

echo "== building winback (release)" >&2
cargo build --release -q -p winback-engine --example fit_bench
cargo build --release -q -p winback
FIT_BENCH=$ROOT/target/release/examples/fit_bench
WINBACK=$ROOT/target/release/winback

echo "== writing the data to $DIR" >&2
"$FIT_BENCH" write "$DIR"

# lifetimes in one process: load, then REPS timed fits; prints one JSON line.
LT_SCRIPT='
import json, math, sys, time
import numpy as np, pandas as pd
from lifetimes import BetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import _scale_time
path, model, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_csv(path)
f, r, T = df["frequency"], df["recency"], df["T"]
times = []
for _ in range(reps):
    m = BetaGeoFitter() if model == "bgnbd" else ParetoNBDFitter()
    t0 = time.perf_counter()
    m.fit(f, r, T)
    times.append(time.perf_counter() - t0)
n = len(df)
# BG/NBD reports the mean negative log-likelihood, Pareto/NBD the total (weights have mean 1);
# both in time rescaled by `scale` (max T = 10), which shifts ln L by -sum(x) ln(scale).
nll = float(m._negative_log_likelihood_)
total = -(nll * n if model == "bgnbd" else nll)
ll = total + float(df["frequency"].sum()) * math.log(_scale_time(np.asarray(T)))
times.sort()
print(json.dumps({"tool": "lifetimes", "kind": "fit", "model": model, "customers": n,
    "reps": reps, "median_s": times[len(times) // 2], "min_s": times[0], "loglik": ll,
    "params": {k: float(v) for k, v in m.params_.items()}}))
'

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'; }

# Median wall time of REPS runs of a command (its stdout discarded); prints seconds.
wall_median() {
    local reps=$1
    shift
    local times=()
    for _ in $(seq "$reps"); do
        local t0=$EPOCHREALTIME
        "$@" > /dev/null
        local t1=$EPOCHREALTIME
        times+=("$(elapsed "$t0" "$t1")")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

process_line() { # tool model customers reps seconds
    printf '{"tool": "%s", "kind": "process", "model": "%s", "customers": %s, "reps": %s, "median_s": %s}\n' \
        "$1" "$2" "$3" "$4" "$5" >> "$RESULTS"
}

echo "load before: $(cat /proc/loadavg)" | tee "$DIR/loadavg.txt" >&2
echo "{\"loadavg_before\": \"$(cat /proc/loadavg)\"}" >> "$RESULTS"

SIZES="cdnow_summary:2357"
[ -z "$QUICK" ] && SIZES="$SIZES cdnow_1m:1000000"
for size in $SIZES; do
    file=$DIR/${size%%:*}.csv
    n=${size##*:}
    for model in bgnbd pareto-nbd; do
        echo "== $model, $n customers" >&2
        if [ "$n" -gt 100000 ]; then wreps=5; preps=3; lreps=3; else wreps=21; preps=11; lreps=5; fi
        # (b) winback in-process.
        "$FIT_BENCH" time "$file" "$model" "$wreps" | sed 's/^{/{"tool": "winback", "kind": "fit", /' >> "$RESULTS"
        # (c) winback as a whole process.
        process_line winback "$model" "$n" "$preps" \
            "$(wall_median "$preps" "$WINBACK" model fit --model "$model" --summary "$file" --json)"
        if [ "$model" = pareto-nbd ] && [ "$n" -gt 100000 ]; then
            # About 165 s: run once, as a whole process that fits once; its own fit time is (a).
            t0=$EPOCHREALTIME
            "$PY" -c "$LT_SCRIPT" "$file" "$model" 1 >> "$RESULTS"
            t1=$EPOCHREALTIME
            process_line lifetimes "$model" "$n" 1 "$(elapsed "$t0" "$t1")"
        else
            # (a) lifetimes in-process.
            "$PY" -c "$LT_SCRIPT" "$file" "$model" "$lreps" >> "$RESULTS"
            # (c) lifetimes as a whole process: import, read, fit once.
            process_line lifetimes "$model" "$n" "$lreps" \
                "$(wall_median "$lreps" "$PY" -c "$LT_SCRIPT" "$file" "$model" 1)"
        fi
    done
done
echo "load after: $(cat /proc/loadavg)" | tee -a "$DIR/loadavg.txt" >&2
echo "{\"loadavg_after\": \"$(cat /proc/loadavg)\"}" >> "$RESULTS"

"$PY" - "$RESULTS" "$(nproc)" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
load = {k: v for r in rows for k, v in r.items() if k.startswith("loadavg")}
get = lambda tool, kind, model, n: next((r for r in rows if r.get("tool") == tool
    and r.get("kind") == kind and r.get("model") == model and r.get("customers") == n), None)
def secs(v):
    return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"
print("| model | customers | lifetimes fit | winback fit | ratio | lifetimes process | winback process | ratio | ln L lifetimes | ln L winback | equal to 0.01 |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for n in sorted({r["customers"] for r in rows if "customers" in r}):
    for model in ("bgnbd", "pareto-nbd"):
        lf, wf = get("lifetimes", "fit", model, n), get("winback", "fit", model, n)
        lp, wp = get("lifetimes", "process", model, n), get("winback", "process", model, n)
        if not (lf and wf and lp and wp):
            continue
        diff = wf["loglik"] - lf["loglik"]
        same = "yes" if abs(diff) <= 0.01 else f"no: winback {diff:+.3f}"
        name = {"bgnbd": "BG/NBD", "pareto-nbd": "Pareto/NBD"}[model]
        print(f"| {name} | {n:,} | {secs(lf['median_s'])} | {secs(wf['median_s'])} | "
              f"{lf['median_s'] / wf['median_s']:.0f}× | {secs(lp['median_s'])} | "
              f"{secs(wp['median_s'])} | {lp['median_s'] / wp['median_s']:.0f}× | "
              f"{lf['loglik']:.3f} | {wf['loglik']:.3f} | {same} |")
print()
print(f"Machine: {sys.argv[2]} cores; /proc/loadavg before: {load.get('loadavg_before')}, after: {load.get('loadavg_after')}.")
EOF
