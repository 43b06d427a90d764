#!/usr/bin/env bash
# Holds porcupine-check's kv model to answers known in advance, and to replsim check's:
#   - the hand-written testdata/NAME.{ok,illegal}.jsonl (also `go test`),
#   - small generated histories: `ok` ones are linearizable by construction (each operation took
#     effect at a point inside its interval), `stale`, `never-written` and `impossible-del` ones
#     are not;
#   - issue #12's shapes with few clients (generate_history's SHAPE/CxN), where Porcupine can answer: long
#     FLUSHDBs, never-returned operations and two-key DELs in hundreds of operations.
# Prints one line per history and exits 1 if any checker that decided got it wrong.
#
#   model/benches/porcupine/validate.sh            # from the repository's root, after
#   CARGO_BUILD_JOBS=1 cargo build --release -p replsim -p replsim-model --example generate_history
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
replsim="$root/target/release/replsim"
generate="$root/target/release/examples/generate_history"
timeout=${TIMEOUT:-5s}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$here" && go build -o porcupine-check . && go test .) || exit 2
[ -x "$replsim" ] && [ -x "$generate" ] || { echo "build replsim and generate_history first (see above)" >&2; exit 2; }

verdict_of() { # exit status of replsim check or porcupine-check -> word
    case $1 in 0) echo ok ;; 1) echo illegal ;; 3) echo unknown ;; *) echo "error($1)" ;; esac
}

wrong=0
check() { # FILE EXPECTED(ok|illegal) LABEL
    local replsim_verdict porcupine_verdict
    "$replsim" check "$1" --model kv --timeout "$timeout" >/dev/null 2>&1
    replsim_verdict=$(verdict_of $?)
    "$here/porcupine-check" -timeout "$timeout" "$1" >/dev/null 2>&1
    porcupine_verdict=$(verdict_of $?)
    local mark=agree
    for verdict in "$replsim_verdict" "$porcupine_verdict"; do
        if [ "$verdict" != unknown ] && [ "$verdict" != "$2" ]; then mark=WRONG; wrong=1; fi
    done
    printf '%-58s expected %-8s replsim %-8s porcupine %-8s %s\n' "$3" "$2" "$replsim_verdict" "$porcupine_verdict" "$mark"
}

for file in "$here"/testdata/*.jsonl; do
    name=$(basename "$file" .jsonl)
    check "$file" "${name##*.}" "testdata/$name"
done

generated() { # SHAPE SEED VARIANT EXPECTED
    local file="$work/$1-$2-$3.jsonl"
    if "$generate" "$1" "$2" "$3" >"$file" 2>/dev/null; then
        check "$file" "$4" "$1 seed $2 $3 ($(wc -l <"$file") ops)"
    fi # else the history has nothing that variant can mutate (e.g. no FLUSHDB to go stale after)
}
for count in 1 2 3 9 30; do
    generated "back-to-back-flushdb-$count" 1 ok ok
    generated "back-to-back-flushdb-$count" 1 stale illegal
done
for seed in $(seq 1 "${SEEDS:-20}"); do
    generated big-values-4 "$seed" ok ok
    generated big-values-4 "$seed" stale illegal
    generated big-values-4 "$seed" never-written illegal
    generated big-values-4 "$seed" impossible-del illegal
done

sized() { # SHAPE OPS CLIENTS SEED VARIANT EXPECTED
    local file="$work/$1-$2-$3-$4-$5.jsonl"
    if "$generate" "$1/$3x$2" "$4" "$5" >"$file" 2>/dev/null; then
        check "$file" "$6" "$1 with $3 clients, $2 ops, seed $4 $5"
    fi
}
for shape in bench-2000 long-flushdb long-flushdb-never-returned long-flushdb-two-key-del long-flushdb-all; do
    for clients in 2 5; do
        for seed in 1 2 3; do
            sized "$shape" 300 "$clients" "$seed" ok ok
            sized "$shape" 300 "$clients" "$seed" stale illegal
        done
    done
done
exit $wrong
