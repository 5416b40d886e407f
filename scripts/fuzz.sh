#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ and runs each for SECONDS (default 60), one after another.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (no TARGET: every target in fuzz/Cargo.toml)
#
# Needs: cargo-fuzz (`cargo install cargo-fuzz --locked`) and a C++ compiler for libFuzzer (`cc`/`c++`,
# e.g. `apt-get install build-essential`). No nightly toolchain: the build runs on the active toolchain
# with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes `-Z`/`-C` flags) and without a sanitizer. With a nightly
# toolchain installed, FUZZ_TOOLCHAIN=nightly FUZZ_SANITIZER=address adds AddressSanitizer.
#
# Environment: CARGO_TARGET_DIR (default fuzz/target), FUZZ_TOOLCHAIN (e.g. `nightly`; default: the active
# one), FUZZ_SANITIZER (default `none`), FUZZ_NICE (default 10), FUZZ_RSS_MB (default 2048),
# FUZZ_TIMEOUT (seconds per input, default 10).
#
# Per target it prints the executions (`stat::number_of_executed_units`) and whether it found anything.
# New corpus entries go to fuzz/corpus/<target>/ (git-ignored; seeded from fuzz/seeds/<target>/), crashes to
# fuzz/artifacts/<target>/, logs to fuzz/logs/. Exit status: 0 when nothing was found, 1 on any crash,
# 2 on a usage or build error. Reproduce a crash with
#   fuzz/target/<triple>/release/<target> fuzz/artifacts/<target>/crash-…
# and minimise it with `-minimize_crash=1 -runs=100000` (or `cargo fuzz tmin -s none <target> <file>`).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is missing: install it with \`cargo install cargo-fuzz --locked\`" >&2
    exit 2
fi
if ! command -v c++ >/dev/null 2>&1; then
    echo "no C++ compiler for libFuzzer: install one (e.g. \`apt-get install build-essential\`)" >&2
    exit 2
fi

mapfile -t all < <(sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz/Cargo.toml" | grep -v '^mse-auth-fuzz$')
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
    if ! printf '%s\n' "${all[@]}" | grep -qx -- "$t"; then
        echo "unknown target \`$t\`; targets: ${all[*]}" >&2
        exit 2
    fi
done

toolchain=()
[ -z "${FUZZ_TOOLCHAIN:-}" ] || toolchain=("+$FUZZ_TOOLCHAIN")
sanitizer=${FUZZ_SANITIZER:-none}
nice_level=${FUZZ_NICE:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$fuzz/target}
triple=$(rustc ${toolchain[@]+"${toolchain[@]}"} -vV | sed -n 's/^host: //p')
bin_dir="$CARGO_TARGET_DIR/$triple/release"

echo "building ${#targets[@]} target(s) (sanitizer: $sanitizer) into $bin_dir"
build_args=(fuzz build -s "$sanitizer" --fuzz-dir "$fuzz")
[ ${#targets[@]} -ne 1 ] || build_args+=("${targets[0]}")
if ! (cd "$fuzz" && RUSTC_BOOTSTRAP=1 nice -n "$nice_level" \
        cargo ${toolchain[@]+"${toolchain[@]}"} "${build_args[@]}"); then
    echo "the fuzz targets do not build" >&2
    exit 2
fi

mkdir -p "$fuzz/logs"
failed=()
printf '\n%-18s %8s %14s  %s\n' target seconds executions result
for t in "${targets[@]}"; do
    corpus="$fuzz/corpus/$t" artifacts="$fuzz/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    seeds=()
    [ ! -d "$fuzz/seeds/$t" ] || seeds=("$fuzz/seeds/$t")
    log="$fuzz/logs/$t.$(date +%Y%m%d-%H%M%S).log"
    stamp=$(mktemp)
    start=$(date +%s)
    set +e
    nice -n "$nice_level" "$bin_dir/$t" "$corpus" ${seeds[@]+"${seeds[@]}"} \
        -max_total_time="$seconds" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -timeout="${FUZZ_TIMEOUT:-10}" \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?
    set -e
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    found=$(find "$artifacts" -type f -newer "$stamp" | head -n 1)
    rm -f "$stamp"
    if [ "$rc" -eq 0 ] && [ -z "$found" ]; then
        result="nothing found"
    else
        result="FOUND (exit $rc): ${found:-no artifact}; log $log"
        failed+=("$t")
    fi
    printf '%-18s %8s %14s  %s\n' "$t" "$took" "${execs:-?}" "$result"
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -Is)" "$t" "$took" "${execs:-?}" "$rc" >>"$fuzz/logs/runs.tsv"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "crashes in: ${failed[*]} (see fuzz/artifacts/)" >&2
    exit 1
fi
