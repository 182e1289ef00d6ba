#!/usr/bin/env bats
# Tamper checks for real (issue 14): a candidate patch that edits the
# held-out tests, adds a marker or touches test configuration is graded
# and flagged next to its verdict (progress line, results, report, JSON);
# a fair one is not. A grading container never sees golden's patch.

load docker_helpers
load grid_helpers

setup_file() {
	build_demo_image
}

# pool3: the demo in $LP, a task (TID) and a pool of solution1, golden and
# the original (POOL, already run)
pool3() {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=10 >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$DEMO_TAG\", \"roles\": [\"solution1\", \"golden\", \"original\"]}}")
	"$TS_BIN" step run "$POOL" >/dev/null || fail "docker_pool failed"
}

@test "a patch editing the held-out test and adding a marker is flagged next to its verdict; a fair one is not" {
	pool3
	cat >"$LP/solution1.patch" <<'PATCH'
diff --git a/calc.py b/calc.py
--- a/calc.py
+++ b/calc.py
@@ -1 +1,2 @@
+# #__PASS__#
 """A tiny calculator."""
diff --git a/tests/test_divide.py b/tests/test_divide.py
new file mode 100644
--- /dev/null
+++ b/tests/test_divide.py
@@ -0,0 +1 @@
+import unittest
PATCH
	s=$(shell_step t "python3 -m unittest tests.test_divide && echo '#__PASS__#' || echo '#__FAIL__#'" '{"files": {"solution1.patch": true}}')
	run_ts 0 step run "$s" --golden
	out_has "  solution1.patch  warning: edits tests/test_divide.py, which the held-out tests patch changes"
	out_has "  solution1.patch  warning: adds the PASS marker"
	out_lacks "golden           warning"
	[[ $(cand "$s" solution1.patch tamper) == *"which the held-out tests patch changes"* ]]
	[[ $(cand "$s" golden tamper) == null ]]
	run_ts 0 task report "$TID"
	out_has "! tamper warnings (1 cell): the patch"
	out_has "  step $s solution1.patch: adds the PASS marker"
	run_ts 0 task report "$TID" --json
	assert_json_eq 'len(d["criteria"][0]["cells"]["solution1.patch"]["tamper"])' '2'
	assert_json_eq 'd["criteria"][0]["cells"]["golden"]["tamper"]' '[]'
}

@test "no grading container can read golden's patch: a candidate searching every file for it finds nothing" {
	pool3
	secret=golden-secret-$RANDOM$RANDOM
	python3 - "$LP/golden.patch" "$secret" <<'PY'
import sys
p, secret = sys.argv[1:3]
text = open(p).read().replace('+    return a / b\n', '+    return a / b  # %s\n' % secret)
open(p, "w").write(text)
PY
	grep -q "$secret" "$LP/golden.patch"
	# the pattern is put together at run time, so the command's own text
	# (which the harness holds) does not match it
	half=${secret#golden-}
	cmd="p=golden-; p=\${p}$half; if grep -rIl --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev \"\$p\" / 2>/dev/null; then echo '#__FAIL__#'; else echo '#__PASS__#'; fi"
	s=$(shell_step peek "$cmd" '{"files": {"solution1.patch": true}}')
	run_ts 0 step run "$s" --golden
	# solution1 and the original search while golden is graded too
	[[ $(cand "$s" solution1.patch status) == '"PASS"' ]] || fail "solution1 found it: $(results "$s" "['solution1.patch']")"
	[[ $(cand "$s" original status) == '"PASS"' ]]
	# golden itself has its patch applied, so it finds the line in calc.py
	[[ $(cand "$s" golden status) == '"FAIL"' ]]
}
