#!/usr/bin/env bats
# Every ```console example in docs/*.md runs as shown (convention: docs/README.md).
# Each page starts from a fresh database; its examples run in order.

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

DOCS="$REPO_ROOT/docs"

# the pages tested one by one below
PAGES=(README.md task.md step.md run.md migrate.md config.md exit-codes.md changes-from-original.md)

run_page() {
	run python3 "$BATS_TEST_DIRNAME/doc-examples.py" "$TS_BIN" "$DOCS/$1"
	if [[ $status -ne 0 ]]; then
		printf '%s\n' "$output" >&2
		return 1
	fi
}

# a fresh, empty database, as setup makes one
fresh_database() {
	case $TS_BACKEND in
	sqlite)
		export XDG_DATA_HOME="$BATS_TEST_TMPDIR/data-$1"
		;;
	postgres) "$TS_BIN" migrate reset --yes >/dev/null ;;
	esac
	rm -rf "$BATS_TEST_TMPDIR/work"
	mkdir -p "$BATS_TEST_TMPDIR/work"
	cd "$BATS_TEST_TMPDIR/work" || return 1
}

@test "docs/README.md examples" {
	run_page README.md
}

@test "docs/task.md examples" {
	run_page task.md
}

@test "docs/step.md examples" {
	run_page step.md
}

@test "docs/run.md examples" {
	run_page run.md
}

@test "docs/migrate.md examples" {
	run_page migrate.md
}

@test "docs/config.md examples" {
	run_page config.md
}

@test "docs/exit-codes.md examples" {
	run_page exit-codes.md
}

@test "docs/changes-from-original.md examples" {
	run_page changes-from-original.md
}

@test "every other docs page with console examples runs too" {
	local f name n=0
	for f in "$DOCS"/*.md; do
		name=${f##*/}
		[[ " ${PAGES[*]} " == *" $name "* ]] && continue
		grep -q '^```console' "$f" || continue
		fresh_database "$name"
		run_page "$name"
		n=$((n + 1))
	done
	[[ $n -gt 0 ]] || skip "no other page has console examples"
}

@test "the example runner catches a wrong exit code and wrong output" {
	cat >page.md <<'EOF'
```console
$ task-sync task create --name demo
Task created with ID: 1
$ task-sync task info 1
# exit 4
$ task-sync task info 2
# exit 4
error: no task found with ID 2
$ task-sync task list
1    demo   …
$ task-sync task info 1
ID: 7
```
EOF
	run python3 "$BATS_TEST_DIRNAME/doc-examples.py" "$TS_BIN" page.md
	[[ $status -eq 1 ]] || { show_run; false; }
	[[ $output == *"FAIL page.md:4: \$ task-sync task info 1"*"exit 0, expected 4"* ]] || { show_run; false; }
	[[ $output == *"FAIL page.md:11: \$ task-sync task info 1"*"no output line matches: ID: 7"* ]] || { show_run; false; }
	[[ $output == *"ok   page.md:6:"* && $output == *"ok   page.md:9:"* ]] || { show_run; false; }
	[[ $output == *"5 examples, 2 failed"* ]] || { show_run; false; }
	printf '```console\n$ ls\n```\n' >bad.md
	run python3 "$BATS_TEST_DIRNAME/doc-examples.py" "$TS_BIN" bad.md
	[[ $status -eq 2 && $output == *"must start with '\$ task-sync'"* ]] || { show_run; false; }
}
