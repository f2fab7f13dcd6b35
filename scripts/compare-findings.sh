#!/usr/bin/env bash
# Findings of every rule fixture case, for comparing two versions of the rules (or of the
# engine) finding by finding, in both languages.
#
#   scripts/compare-findings.sh run [--resume] OUT-DIR [RULE-ID...]   analyze each case into OUT-DIR
#   scripts/compare-findings.sh diff A-DIR B-DIR    show what differs (exit 1 if anything)
#
# `run` builds mkbundle and the analyzer (dev profile, in $CARGO_TARGET_DIR), builds the
# bundles of each case under tests/fixtures/rules/<id>/{fire,quiet,quiet-*}/ (of every rule,
# or of the rules named) plus the sample, baseline and noisy fixtures, and analyzes each case
# with every rule of this checkout's analyzer/rules/ at once, as a report runs them
# (`ktriage analyze --no-builtin-rules --rules analyzer/rules --format json`). Each case's
# findings.json is written to OUT-DIR/<fixture>/<case>.json with the fields that change
# between runs and checkouts (the ktriage version, the bundle files' paths) removed. With
# --resume, cases already in OUT-DIR are not analyzed again. KTRIAGE_BIN and MKBUNDLE_BIN name
# binaries to use instead of building them (an earlier build kept aside, for one).
set -euo pipefail

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# findings.json without what differs between runs of the same rules on the same bundles.
normalize() {
    jq -S 'del(.version) | .bundles |= map(del(.source))' "$1"
}

# The case directories of `fixture` (a path under tests/fixtures/), one per line.
cases_of() {
    local dir="$root/tests/fixtures/$1"
    if [ -d "$dir/fire" ] || [ -d "$dir/quiet" ]; then
        find "$dir" -mindepth 1 -maxdepth 1 -type d \( -name fire -o -name 'quiet*' \) | sort
    elif [ "$1" = noisy ]; then
        find "$dir" -mindepth 1 -maxdepth 1 -type d | sort
    else
        echo "$dir"
    fi
}

# Whether `dir` is one bundle's source rather than a directory of several (as mkbundle decides).
is_bundle_source() {
    local n
    for n in bundle.yaml objects logs nodes host; do
        [ -e "$1/$n" ] && return 0
    done
    return 1
}

run() {
    local resume=false
    if [ "${1:-}" = --resume ]; then
        resume=true
        shift
    fi
    local out="$1"
    shift
    local fixtures=()
    if [ $# -gt 0 ]; then
        for id in "$@"; do
            [ -d "$root/tests/fixtures/rules/$id" ] || {
                echo "compare-findings: no fixtures for rule $id" >&2
                exit 2
            }
            fixtures+=("rules/$id")
        done
    else
        for d in "$root"/tests/fixtures/rules/*/; do
            fixtures+=("rules/$(basename "$d")")
        done
        fixtures+=(sample baseline noisy)
    fi
    local target="${CARGO_TARGET_DIR:-$root/target}"
    local ktriage="${KTRIAGE_BIN:-$target/debug/ktriage}" mkbundle="${MKBUNDLE_BIN:-$target/debug/mkbundle}"
    [ -n "${MKBUNDLE_BIN:-}" ] || (cd "$root" && cargo build -q -p ktriage-tests --bin mkbundle)
    [ -n "${KTRIAGE_BIN:-}" ] || (cd "$root" && cargo build -q -p ktriage)
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/ktriage-compare.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
    mkdir -p "$out"
    local n=0
    for fixture in "${fixtures[@]}"; do
        while IFS= read -r case_dir; do
            local name
            name="$(basename "$case_dir")"
            [ "$fixture" = "$name" ] && name=case
            if $resume && [ -s "$out/$fixture/$name.json" ]; then
                continue
            fi
            rm -rf "$tmp/bundles" "$tmp/report"
            mkdir -p "$tmp/bundles"
            if is_bundle_source "$case_dir"; then
                "$mkbundle" "$case_dir" "$tmp/bundles/b.tar.zst"
            else
                "$mkbundle" "$case_dir" "$tmp/bundles"
            fi
            (cd "$root" && "$ktriage" analyze --quiet --no-builtin-rules \
                --rules analyzer/rules --format json --lang en -o "$tmp/report" \
                "$tmp"/bundles/*.tar.zst >"$tmp/log" 2>&1) || {
                # A failing rule is part of the findings (rule_errors); a failing run is not.
                if [ ! -f "$tmp/report/findings.json" ]; then
                    echo "compare-findings: $fixture/$name: analyze failed:" >&2
                    cat "$tmp/log" >&2
                    exit 1
                fi
            }
            mkdir -p "$out/$fixture"
            normalize "$tmp/report/findings.json" >"$out/$fixture/$name.json"
            n=$((n + 1))
        done < <(cases_of "$fixture")
    done
    echo "compare-findings: $n cases written to $out"
}

compare() {
    local a="$1" b="$2"
    if diff -r -u "$a" "$b"; then
        echo "compare-findings: $(find "$a" -name '*.json' | wc -l) cases, no difference"
    else
        echo "compare-findings: $a and $b differ" >&2
        exit 1
    fi
}

case "${1:-}" in
    run)
        [ $# -ge 2 ] || { usage >&2; exit 2; }
        shift
        run "$@"
        ;;
    diff)
        [ $# -eq 3 ] || { usage >&2; exit 2; }
        compare "$2" "$3"
        ;;
    -h | --help)
        usage
        ;;
    *)
        usage >&2
        exit 2
        ;;
esac
