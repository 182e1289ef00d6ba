#!/usr/bin/env bats
# The shell task-sync carries and runs is linted: the grading harness
# (src/core/grade.sh, compiled into the binary) and every script.

load helpers

@test "the grading harness and every script pass shellcheck" {
	command -v shellcheck >/dev/null || fail "shellcheck is not installed (scripts/setup installs it)"
	local files=("$REPO_ROOT/src/core/grade.sh" "$REPO_ROOT/.ci/run") f
	for f in "$REPO_ROOT"/scripts/* "$REPO_ROOT"/bench/*; do
		head -n1 "$f" | grep -q '^#!.*sh' && files+=("$f")
	done
	((${#files[@]} > 10)) || fail "only ${#files[@]} scripts found"
	cd "$REPO_ROOT"
	run shellcheck -x "${files[@]}"
	[[ $status -eq 0 ]] || fail "$output"
}

