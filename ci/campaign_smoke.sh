#!/usr/bin/env bash
# campaign_smoke.sh - the parallel campaigns and their reports, briefly (ci/fuzz_smoke.sh
# calls it; about 2.5 minutes on 2 cores):
#   1. ci/campaign.sh --engine afl --jobs 2: a -M main and a CMPLOG -S secondary on
#      fuzz_heap for CAMPAIGN_AFL_SECONDS (20); no crash; its report;
#   2. ci/campaign.sh --jobs 2 (libFuzzer -fork=2) on fuzz_heap_teach, the teaching
#      allocator with its planted bug, for CAMPAIGN_LF_SECONDS (15); the planted bug's
#      input is added to its crashes/ and ci/campaign_report.sh run on it;
#   3. ci/campaign.sh --jobs 2 on fuzz_threads_teach_mt (a false thread-safety claim,
#      found within seconds) for CAMPAIGN_THR_SECONDS (8), and its report without
#      coverage (about 20 s in all): at least one crash, every one with its fzt-trace
#      trace, a verdict and no heap map (the page says why);
#   each report: index.html, plots gnuplot drew, the coverage page (not 3's), every file
#   the page refers to, balanced HTML, and every crash of the campaign listed (the
#   planted one with its trace, a verdict naming a rule, and its heap map).
# Environment: HEAPLAB_BUILD_ROOT (default build/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/crash_lib.sh"
cd "$HEAPLAB_ROOT"

BUILD_ROOT=${HEAPLAB_BUILD_ROOT:-$HEAPLAB_ROOT/build}
WORK=$BUILD_ROOT/campaign-smoke
AFL_SECONDS=${CAMPAIGN_AFL_SECONDS:-20} LF_SECONDS=${CAMPAIGN_LF_SECONDS:-15} THR_SECONDS=${CAMPAIGN_THR_SECONDS:-8}
failures=0
fail() { log "campaign_smoke: FAILED: $*"; failures=$((failures + 1)); }
rm -rf "$WORK"; mkdir -p "$WORK"

# Every local file index.html refers to exists; no reference leaves the machine; the
# tags balance (html.parser, void elements aside).
check_html() {   # check_html REPORT_DIR
    python3 - "$1" <<'EOF'
import html.parser, os, sys
report = sys.argv[1]
void = {"meta", "img", "br", "hr", "link", "input"}
class Check(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.errors = []; self.refs = []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("href", "src") and v and not v.startswith("#"):
                self.refs.append(v)
        if tag not in void:
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("line %d: </%s> closes <%s>" % (self.getpos()[0], tag, self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()
c = Check()
c.feed(open(os.path.join(report, "index.html"), encoding="utf-8").read())
if c.stack:
    c.errors.append("unclosed: " + " ".join(c.stack))
for r in c.refs:
    if "://" in r or r.startswith("//"):
        c.errors.append("external reference: " + r)
    elif not os.path.exists(os.path.join(report, r.split("#")[0])):
        c.errors.append("missing file: " + r)
print("index.html: %d references, all present" % len(c.refs) if not c.errors else "\n".join(c.errors))
sys.exit(1 if c.errors else 0)
EOF
}

# The report's files, its plots drawn by gnuplot, and its crash list complete.
check_report() {   # check_report CAMPAIGN_DIR ENGINE [no-coverage]
    local dir=$1 engine=$2 report=$1/report f drawn=0 listed expected cov="not measured"
    [ -s "$report/index.html" ] && grep -q '</html>' "$report/index.html" || { fail "$dir: no report/index.html"; return; }
    for f in "$report"/plots/*.svg; do
        # gnuplot signs its SVG; a series drawn is a path with more than a move
        if [ -f "$f" ] && grep -q 'Produced by GNUPLOT' "$f" && grep -qE "<path[^>]* d='M[^']*L" "$f"; then drawn=$((drawn + 1)); fi
    done
    [ "$drawn" -ge 1 ] || fail "$dir: no plot drawn by gnuplot in report/plots/"
    if [ "${3:-}" != no-coverage ]; then
        grep -q 'gcovr' "$report/coverage/index.html" 2>/dev/null || fail "$dir: no coverage page (report/coverage/index.html)"
        grep -qE '^lines: [0-9.]+% \([1-9][0-9]* out of' "$report/coverage-summary.txt" 2>/dev/null || fail "$dir: the coverage counted no line"
        cov=$(head -1 "$report/coverage-summary.txt")
    fi
    check_html "$report" || fail "$dir: report/index.html"
    expected=$(crash_files "$engine" "$dir" | wc -l)
    listed=$(wc -l < "$report/crashes/index.tsv")
    [ "$listed" -eq "$expected" ] || fail "$dir: $expected crashes in the campaign, $listed in the report"
    [ "$(grep -c 'id="crash-[0-9]*"' "$report/index.html")" -eq "$expected" ] || fail "$dir: not every crash has its section in index.html"
    printf '%s: %s plots, %s crashes listed, coverage %s\n' "$dir" "$drawn" "$listed" "$cov"
}

section "AFL++: 2 instances (main, CMPLOG) on fuzz_heap, $AFL_SECONDS s, and the report"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/campaign.sh --engine afl --jobs 2 --time "$AFL_SECONDS" \
    --work "$WORK/afl" > "$WORK/afl.log" 2>&1 || { tail -30 "$WORK/afl.log"; fail "the AFL++ campaign"; }
sed -n '/^==== summary/,$p' "$WORK/afl.log"
[ -d "$WORK/afl/afl/main/queue" ] && [ -d "$WORK/afl/afl/cmplog/queue" ] || fail "AFL++: no main and cmplog instances in one sync directory"
grep -q -- "-c $BUILD_ROOT/fuzz-afl-cmplog/fuzz/fuzz_heap" "$WORK/afl/afl-1.log" || fail "AFL++: the second instance ran without the CMPLOG binary"
grep -qE "Dead or remote : 2 \(included in stats\)|Fuzzers alive : 2" "$WORK/afl/afl-whatsup.txt" || fail "AFL++: afl-whatsup -s -d does not count both instances"
check_report "$WORK/afl" afl
[ "$(crash_files afl "$WORK/afl" | wc -l)" -eq 0 ] || fail "AFL++ found crashes in fuzz_heap (see $WORK/afl/report/index.html)"
section_end

section "libFuzzer -fork=2 on fuzz_heap_teach, $LF_SECONDS s, the planted bug, and the report"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/campaign.sh --target fuzz_heap_teach --jobs 2 --time "$LF_SECONDS" \
    --work "$WORK/lf" --no-report > "$WORK/lf.log" 2>&1 || { tail -30 "$WORK/lf.log"; fail "the libFuzzer campaign"; }
grep -E '^(crashes|corpus|executions):' "$WORK/lf.log" || true
run "$BUILD_ROOT/fuzz/fuzz/hl-trace-teach" encode examples/allocators/teach/planted_bug.txt -o "$WORK/lf/crashes/crash-planted"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/campaign_report.sh "$WORK/lf" > "$WORK/lf-report.log" 2>&1 \
    || { tail -20 "$WORK/lf-report.log"; fail "campaign_report.sh on the libFuzzer campaign"; }
check_report "$WORK/lf" libfuzzer
planted=$(awk -F'\t' '$3 == "crashes/crash-planted"' "$WORK/lf/report/crashes/index.tsv")
if [ -z "$planted" ]; then
    fail "the planted crash is not in the report"
else
    id=$(cut -f1 <<< "$planted")
    printf 'planted crash: #%s %s\n' "$id" "$(cut -f2 <<< "$planted")"
    grep -qE 'verdict: realloc s14 14: rule [a-z-]+' <<< "$planted" || fail "the planted crash's verdict names no rule at realloc s14 14"
    grep -q '^2: realloc s14 14$' "$WORK/lf/report/crashes/$id.txt" || fail "the planted crash's trace"
    grep -q '<svg' "$WORK/lf/report/crashes/$id.svg" 2>/dev/null && grep -q "crashes/$id.svg" "$WORK/lf/report/index.html" \
        || fail "the planted crash has no heap map in the report"
    grep -q "crash-planted" "$WORK/lf/report/index.html" || fail "index.html does not name the planted crash"
fi
section_end

# A threaded target: its seeds, dictionary, fzt-trace and standalone driver.  teach_mt
# claims thread safety falsely and races within seconds (docs/byoa.md); a race need not
# come back when replayed, so a verdict may be "no violation in N replays": what is
# checked is that every crash has its decoded trace, a verdict and no heap map.
section "libFuzzer -fork=2 on fuzz_threads_teach_mt, $THR_SECONDS s, and the report (no coverage)"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/campaign.sh --target fuzz_threads_teach_mt --jobs 2 --time "$THR_SECONDS" \
    --work "$WORK/thr" --no-report > "$WORK/thr.log" 2>&1 || { tail -30 "$WORK/thr.log"; fail "the threaded campaign"; }
grep -E '^(crashes|corpus|executions):' "$WORK/thr.log" || true
grep -q 'corpus/fuzz_threads' "$WORK/thr/campaign.env" && grep -q 'fuzz/fuzz_threads.dict' "$WORK/thr/campaign.env" \
    || fail "the threaded campaign did not use corpus/fuzz_threads and fuzz/fuzz_threads.dict"
HEAPLAB_BUILD_ROOT=$BUILD_ROOT run bash ci/campaign_report.sh --no-coverage "$WORK/thr" > "$WORK/thr-report.log" 2>&1 \
    || { tail -20 "$WORK/thr-report.log"; fail "campaign_report.sh on the threaded campaign"; }
check_report "$WORK/thr" libfuzzer no-coverage
index=$WORK/thr/report/crashes/index.tsv
if [ "$(crash_files libfuzzer "$WORK/thr" | wc -l)" -eq 0 ]; then
    fail "fuzz_threads_teach_mt: no crash in $THR_SECONDS s (its false claim is found within seconds)"
else
    while IFS=$'\t' read -r id verdict path _ _ ops svg _; do
        head -1 "$WORK/thr/report/crashes/$id.txt" | grep -qE '^threads [2-8] mode=(deterministic|free-running) sync=[0-9]+$' \
            && [ "$ops" -ge 1 ] || fail "threaded crash #$id ($path): no decoded trace (fzt-trace decode)"
        grep -qE '^verdict: ' <<< "$verdict" || fail "threaded crash #$id ($path): no verdict"
        [ "$svg" = threads ] && [ ! -e "$WORK/thr/report/crashes/$id.svg" ] || fail "threaded crash #$id: a heap map"
    done < "$index"
    cut -f2,8 "$index" | sort | uniq -c
    grep -q 'No heap map: a threaded input has none' "$WORK/thr/report/index.html" || fail "the threaded report does not say why there is no heap map"
    ! grep -q '<img src="crashes/' "$WORK/thr/report/index.html" || fail "the threaded report shows a heap map"
fi
section_end

[ "$failures" -eq 0 ] && log "campaign_smoke: passed" || log "campaign_smoke: $failures check(s) failed"
exit $(( failures > 0 ))
