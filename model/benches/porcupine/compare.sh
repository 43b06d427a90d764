#!/usr/bin/env bash
# Issue #12's shapes, checked by replsim and by Porcupine side by side in one run: for each
# history (seed 1), `replsim check FILE --model kv --timeout 20s` and `porcupine-check -timeout
# 20s FILE` one after the other (in odd rounds replsim first, in even rounds Porcupine first), so
# both see the same load. Times are each tool's own "checked in" (reading the file apart), RSS the
# process's peak from /usr/bin/time. A checker that says "unknown" in round 1 is not re-run.
#
#   CARGO_BUILD_JOBS=1 cargo build --release -p replsim -p replsim-model --example generate_history
#   model/benches/porcupine/compare.sh                       # every shape below, 3 rounds
#   ROUNDS=1 model/benches/porcupine/compare.sh 5000-ops:ok  # one history
#   model/benches/porcupine/compare.sh long-flushdb/10x1000:ok  # 10 clients, 1,000 ops
#
# SHAPE/CxN is SHAPE with C clients and N operations (generate_history's syntax): issue #12's shapes all have 50 or 100 clients, and how many operations are in flight at
# once is what Porcupine's time depends on.
#
# Prints every run as it goes, then a Markdown table of medians; `compare.sh --table LOG` prints
# the table of a saved run's output again.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
replsim="$root/target/release/replsim"
generate="$root/target/release/examples/generate_history"
timeout=${TIMEOUT:-20s}
rounds=${ROUNDS:-3}
seed=${SEED:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Medians of the rounds, and Porcupine's time over replsim's (> 1: replsim is faster). Reads the
# run lines (history, checker, round, verdict, check ms, RSS MB) of a log, in order.
table() {
    echo "| history (seed $seed) | variant | replsim: verdict, check, RSS | Porcupine: verdict, check, RSS | Porcupine ÷ replsim |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '
        function median(list, count,    sorted, i, j, swap) {
            for (i = 1; i <= count; i++) sorted[i] = list[i]
            for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++)
                if (sorted[j] + 0 < sorted[i] + 0) { swap = sorted[i]; sorted[i] = sorted[j]; sorted[j] = swap }
            return sorted[int((count + 1) / 2)]
        }
        function shown(ms) { return ms >= 1000 ? sprintf("%.2f s", ms / 1000) : (ms >= 10 ? sprintf("%.0f ms", ms) : sprintf("%.1f ms", ms)) }
        # Two significant digits: the host is shared, a third would be noise.
        function times_shown(ratio,    unit) {
            if (ratio < 10) return sprintf("%.2g×", ratio)
            for (unit = 1; ratio / unit >= 100; unit *= 10) {}
            return sprintf("%d×", int(ratio / unit + 0.5) * unit)
        }
        function at_least(ms) { return ms > 0.05 ? ms : 0.05 }
        NF == 6 && ($2 == "replsim" || $2 == "porcupine") {
            if (!($1 in seen)) { seen[$1] = 1; order[++histories] = $1 }
            count[$1, $2]++; times[$1, $2, count[$1, $2]] = $5; verdict[$1, $2] = $4
            if ($6 + 0 > rss[$1, $2] + 0) rss[$1, $2] = $6
        }
        END {
            for (h = 1; h <= histories; h++) {
                history = order[h]
                split(history, parts, ":")
                for (c = 1; c <= 2; c++) {
                    checker = c == 1 ? "replsim" : "porcupine"
                    n = count[history, checker]
                    for (i = 1; i <= n; i++) list[i] = times[history, checker, i]
                    ms[checker] = median(list, n)
                    unknown[checker] = verdict[history, checker] == "unknown"
                    if (unknown[checker]) cell[checker] = sprintf("**unknown after %.0f s**, %d MB", ms[checker] / 1000, rss[history, checker])
                    else cell[checker] = sprintf("%s, %s, %d MB%s", verdict[history, checker], shown(ms[checker]), rss[history, checker], n > 1 ? " (median of " n ")" : "")
                }
                if (unknown["replsim"] && unknown["porcupine"]) ratio = "both unknown"
                else if (unknown["porcupine"]) ratio = "> " times_shown(ms["porcupine"] / at_least(ms["replsim"]))
                else if (unknown["replsim"]) ratio = "< " times_shown(ms["porcupine"] / ms["replsim"])
                else if (ms["porcupine"] < 1 && ms["replsim"] < 1) ratio = "both < 1 ms"
                else ratio = times_shown(at_least(ms["porcupine"]) / at_least(ms["replsim"]))
                name = "`" parts[1] "`"
                if (match(parts[1], /\/[0-9]+x[0-9]+$/)) {
                    split(substr(parts[1], RSTART + 1), size, "x")
                    name = sprintf("`%s` with %d clients, %d ops", substr(parts[1], 1, RSTART - 1), size[1], size[2])
                }
                printf "| %s | %s | %s | %s | %s |\n", name, parts[2], cell["replsim"], cell["porcupine"], ratio
            }
        }' "$1"
}

if [ "${1:-}" = --table ]; then # the table of an earlier run's log, again
    table "${2:?usage: compare.sh --table LOG}"
    exit
fi

histories=("$@")
if [ ${#histories[@]} -eq 0 ]; then
    for shape in bench-2000 long-flushdb long-flushdb-never-returned long-flushdb-two-key-del \
        long-flushdb-all 5000-ops 20000-ops; do
        histories+=("$shape:ok" "$shape:stale")
    done
    histories+=(20000-ops:never-written 20000-ops:impossible-del)
    histories+=(back-to-back-flushdb-30:ok back-to-back-flushdb-30:stale)
    histories+=(back-to-back-flushdb-9:ok back-to-back-flushdb-9:stale)
fi

(cd "$here" && go build -o porcupine-check .) || exit 2
[ -x "$replsim" ] && [ -x "$generate" ] || { echo "build replsim and generate_history first (see above)" >&2; exit 2; }

echo "# $(date -u '+%F %T UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)," \
    "Porcupine $(git -C "$here/porcupine-src" rev-parse --short HEAD 2>/dev/null || echo '(commit unknown)')," \
    "replsim $(git -C "$root" rev-parse --short HEAD), timeout $timeout, seed $seed"

verdict_of() {
    case $1 in 0) echo ok ;; 1) echo illegal ;; 3) echo unknown ;; *) echo "error($1)" ;; esac
}

runs="$work/runs.tsv" # history checker round verdict check_ms rss_mb
measure() { # HISTORY CHECKER ROUND FILE
    local out="$work/out" usage="$work/usage" status
    case $2 in
        replsim) /usr/bin/time -f '%M' -o "$usage" "$replsim" check "$4" --model kv --timeout "$timeout" >"$out" 2>&1 ;;
        porcupine) /usr/bin/time -f '%M' -o "$usage" "$here/porcupine-check" -timeout "$timeout" "$4" >"$out" 2>&1 ;;
    esac
    status=$?
    local verdict check_ms rss_mb
    verdict=$(verdict_of $status)
    check_ms=$(sed -n 's/.*checked in \([0-9.]*\) ms.*/\1/p' "$out")
    rss_mb=$(($(tail -1 "$usage") / 1024))
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$verdict" "${check_ms:-?}" "$rss_mb" | tee -a "$runs"
    [ "$verdict" != unknown ]
}

file_of() { echo "$work/$(echo "$1" | tr ':/' '--').jsonl"; }

for history in "${histories[@]}"; do
    shape=${history%%:*} variant=${history#*:}
    "$generate" "$shape" "$seed" "$variant" >"$(file_of "$history")" || exit 2
done

declare -A undecided
for round in $(seq 1 "$rounds"); do
    for history in "${histories[@]}"; do
        file=$(file_of "$history")
        order="replsim porcupine"
        [ $((round % 2)) -eq 0 ] && order="porcupine replsim"
        for checker in $order; do
            [ -n "${undecided[$history $checker]:-}" ] && continue
            measure "$history" "$checker" "$round" "$file" || undecided[$history $checker]=1
        done
    done
done
echo "# load at the end $(cut -d' ' -f1-3 /proc/loadavg)"


echo
table "$runs"
