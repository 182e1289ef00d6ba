#!/usr/bin/env bats
# The code is linted: the shell task-sync carries and runs (the grading
# harness src/core/grade.sh and the other src/*/*.sh compiled into the
# binary, and every script) by shellcheck, and the C sources by clang-format
# (.clang-format).

# lint does not depend on the database: SQLite's run only
# bats file_tags=no-storage
load helpers

@test "the grading harness and every script pass shellcheck" {
	command -v shellcheck >/dev/null || fail "shellcheck is not installed (scripts/setup installs it)"
	local files=("$REPO_ROOT"/src/*/*.sh "$REPO_ROOT/.ci/run") f
	for f in "$REPO_ROOT"/scripts/* "$REPO_ROOT"/bench/* "$REPO_ROOT"/man/*.sh \
		"$REPO_ROOT"/completion/*; do
		[[ $f == *completion/* ]] || head -n1 "$f" | grep -q '^#!.*sh' || continue
		files+=("$f")
	done
	((${#files[@]} > 10)) || fail "only ${#files[@]} scripts found"
	cd "$REPO_ROOT"
	run shellcheck -x "${files[@]}"
	[[ $status -eq 0 ]] || fail "$output"
}


@test "the C sources follow .clang-format" {
	command -v clang-format >/dev/null || fail "clang-format is not installed (scripts/setup installs it)"
	cd "$REPO_ROOT"
	local -a files
	mapfile -t files < <(git ls-files 'src/*.c' 'src/*.h' 'tests/unit/*.c' 'tests/unit/*.h' 'tests/fuzz/*.c')
	((${#files[@]} > 50)) || fail "only ${#files[@]} C files found"
	run clang-format --dry-run --Werror "${files[@]}"
	[[ $status -eq 0 ]] || fail "not formatted (run: clang-format -i FILE):"$'\n'"${output:0:3000}"
}
