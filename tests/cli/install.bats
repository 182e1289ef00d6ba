#!/usr/bin/env bats
# installable like a real tool: the version and git description, bash
# completion, man pages, and `meson install` (docs/install.md)

load helpers

setup() {
	ts_setup
}

# bats test_tags=no-storage
@test "task-sync version prints the version and the build's git description" {
	run_ts 0 version
	version=$(sed -n "s/^project('task-sync', 'c',\$//; s/^  version : '\\(.*\\)',\$/\\1/p" "$REPO_ROOT/meson.build")
	[[ -n $version ]] || fail "no version in meson.build"
	if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
		# the commit the binary was built from is the checkout's, or one before it
		[[ $output =~ ^task-sync\ $version\ \(([0-9a-f]{7,}|[^\ ]+-g[0-9a-f]{7,})(-dirty)?\)$ ]] ||
			{ show_run; false; }
		sha=${BASH_REMATCH[1]##*-g}
		git -C "$REPO_ROOT" cat-file -e "$sha^{commit}" || fail "$sha is not a commit of this checkout"
	else
		out_is "task-sync $version ($version)"
	fi
	v=$output
	run_ts 0 --version
	out_is "$v"
}

# bats test_tags=no-storage
@test "the binary links neither libpq nor libmicrohttpd nor libcrypto: they are loaded when a command needs them" {
	# libpq at the first PostgreSQL connection (store/pq.c), libmicrohttpd
	# when serve starts (serve/mhd.c), libcrypto at the first digest
	# (os/crypto.c): the other commands load none of them, nor Kerberos,
	# LDAP or gnutls behind them
	run ldd "$TS_BIN"
	check_status 0
	for lib in libpq libmicrohttpd libcrypto libgnutls libkrb5 libldap; do
		out_lacks "$lib"
	done
	out_has libsqlite3
}

# broken_lib NAME: a task with a file_exists step on ./a, and a file NAME
# that is no library first on the library path: loading NAME fails (a
# binary linked with it would not even start)
broken_lib() {
	run_ts 0 task create --name demo --local_path "$BATS_TEST_TMPDIR/work"
	run_ts 0 step create --task 1 --title check --settings '{"file_exists": ["a"]}'
	: >a
	mkdir "$BATS_TEST_TMPDIR/lib"
	: >"$BATS_TEST_TMPDIR/lib/$1"
	export LD_LIBRARY_PATH="$BATS_TEST_TMPDIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	run_ts 0 task list
	out_has demo
}

@test "on SQLite no command loads OpenSSL, not even one that hashes (Nettle does)" {
	sqlite_only # libpq needs libcrypto (TLS)
	broken_lib libcrypto.so.3
	run_ts 0 step run 1
	run_ts 0 step info 1 --json
	# the empty file's SHA-256, as sha256sum gives it
	assert_json_eq 'd["results"]["fingerprint"]["inputs"]["a"]["sha256"]' \
		'"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"'
	unset LD_LIBRARY_PATH
}

@test "without Nettle, commands that do not hash run; one that does names the package and exits 3" {
	sqlite_only # libpq needs Nettle too (through LDAP's GnuTLS)
	broken_lib libnettle.so.8
	run_ts 0 step info 1
	run_ts 3 step run 1
	err_is "fatal: cannot load the Nettle library (libnettle.so.8, Debian package libnettle8): $BATS_TEST_TMPDIR/lib/libnettle.so.8: file too short"
	unset LD_LIBRARY_PATH
	run_ts 0 step run 1
}

# complete WORD...: what bash completion offers for the last WORD after
# `task-sync WORD...`, one a line, as the shell gets it from
# completion/task-sync.bash (the program found on PATH, like an installed one)
complete_words() {
	PATH="$(dirname "$TS_BIN"):$PATH" bash -c '
		source "$1" || exit 1
		shift
		COMP_WORDS=(task-sync "$@")
		COMP_CWORD=$#
		_task_sync
		printf "%s\n" "${COMPREPLY[@]}"' bash "$REPO_ROOT/completion/task-sync.bash" "$@"
}

# completes_to EXPECTED WORD...: the candidates, space-separated, are EXPECTED
completes_to() {
	local want=$1 got
	shift
	got=$(complete_words "$@" | paste -sd' ')
	[[ $got == "$want" ]] || fail "task-sync $* <TAB>: expected '$want', got '$got'"
}

# bats test_tags=no-storage
@test "bash completion completes commands" {
	completes_to "step" st
	completes_to "task step run-steps worker migrate serve config cleanup gc version" ""
	completes_to "--help --version" -
	completes_to "" nosuch ""
}

# bats test_tags=no-storage
@test "bash completion completes a group's commands, from the same table as its help" {
	completes_to "edit" step ed
	completes_to "up down status force reset" migrate ""
	# every command `task --help` lists, and nothing else
	want=$(ts task --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' | paste -sd' ')
	[[ -n $want ]]
	completes_to "$want" task ""
	# a literal word of a usage line
	completes_to "legacy-results" cleanup ""
}

# bats test_tags=no-storage
@test "bash completion completes a command's options, from the same rows as its help" {
	completes_to "--set" step edit 1 --se
	completes_to "--set --remove-key --help" step edit 1 --set title=x ""
	completes_to "--run --candidate --raw --help" step log 1 -
	completes_to "--task --dry-run --json --runs --help" gc --
	# after `--`, no option
	completes_to "" step info -- -
	# an option's value that is not an ID: nothing
	completes_to "" step create --title ""
}

@test "bash completion completes task and step IDs from the database" {
	# no database yet: nothing, and none is created
	completes_to "" step info ""
	[[ ! -e $XDG_DATA_HOME/task-sync ]] || fail "completion created the database"
	t1=$(make_task one)
	t2=$(make_task two)
	s1=$(make_step "$t1" first '{"file_exists":"a"}')
	s2=$(make_step "$t2" second '{"file_exists":"b"}')
	s3=$(make_step "$t2" third '{"file_exists":"c"}')
	completes_to "$s1 $s2 $s3" step info ""
	completes_to "$s1 $s2 $s3" step edit ""
	completes_to "$t1 $t2" task info ""
	completes_to "$t1 $t2" step list --task ""
	completes_to "$s1 $s2 $s3" step copy --id ""
	completes_to "$t1 $t2" step copy --id "$s1" --to-task-id ""
	completes_to "$t1 $t2" step tree ""
	completes_to "$t1 $t2" task delete --id ""
	# the prefix typed so far
	ids=("$s1" "$s2" "$s3")
	for i in $(seq 4 12); do ids+=("$(make_step "$t1" "s$i" '{"file_exists":"x"}')"); done
	prefix=${ids[0]:0:1}
	want=$(printf '%s\n' "${ids[@]}" | grep "^$prefix" | paste -sd' ')
	[[ $want == *" "* ]]
	completes_to "$want" step info "$prefix"
	# an ID already given: the options
	completes_to "--json --help" step info "$s1" ""
}

@test "completion never prints an error on the prompt" {
	write_conf "DATABASE_URL=postgres://nobody@127.0.0.1:1/none"
	run --separate-stderr "$TS_BIN" __complete step info ""
	[[ $status -eq 0 && -z $output && -z $stderr ]] || { show_run; false; }
}

# the man pages meson installs, by file name
MAN_PAGES=(
	man1/task-sync.1 man1/task-sync-task.1 man1/task-sync-step.1 man1/task-sync-run.1
	man1/task-sync-report.1 man1/task-sync-migrate.1 man1/task-sync-config.1 man1/task-sync-gc.1
	man1/task-sync-serve.1 man1/task-sync-worker.1
	man7/task-sync-step-types.7 man7/task-sync-grading.7 man7/task-sync-exit-codes.7
)

# install_to DIR: `meson install` of the build TS_BIN belongs to, under DESTDIR DIR;
# prints the install prefix's folder under DIR
install_to() {
	local build prefix
	build=$(dirname "$TS_BIN")
	[[ -f $build/build.ninja ]] || skip "$TS_BIN is not in a meson build folder"
	meson install -C "$build" --no-rebuild --quiet --destdir "$1" >&2 || return 1
	prefix=$(meson introspect "$build" --buildoptions |
		python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
	printf '%s\n' "$1$prefix"
}

# bats test_tags=no-storage
@test "meson install installs the binary, the bash completion and a man page per command group" {
	root=$(install_to "$BATS_TEST_TMPDIR/dest")
	[[ -x $root/bin/task-sync ]] || fail "no $root/bin/task-sync"
	run --separate-stderr "$root/bin/task-sync" version
	[[ $status -eq 0 && $output == "$(ts version)" ]] || { show_run; false; }
	[[ -f $root/share/bash-completion/completions/task-sync ]] || fail "no completion installed"
	# the installed completion, with the installed binary on PATH
	got=$(PATH="$root/bin:$PATH" bash -c '
		source "$1" || exit 1
		COMP_WORDS=(task-sync step ed); COMP_CWORD=2
		_task_sync; printf "%s\n" "${COMPREPLY[@]}"' bash "$root/share/bash-completion/completions/task-sync")
	[[ $got == edit ]] || fail "installed completion: got '$got'"
	# exactly the pages listed
	want=$(printf '%s\n' "${MAN_PAGES[@]}" | sort)
	have=$(cd "$root/share/man" && find . -type f | sed 's|^\./||' | sort)
	[[ $have == "$want" ]] || fail "man pages: expected"$'\n'"$want"$'\n'"got"$'\n'"$have"
	for page in "${MAN_PAGES[@]}"; do
		name=$(basename "$page")
		name=${name%.*}
		run --separate-stderr env MANWIDTH=100 man -l "$root/share/man/$page"
		[[ $status -eq 0 ]] || { show_run; fail "man -l $page"; }
		# the header, the NAME line, and a section of its own
		[[ ${lines[0]} == "${name^^}("* ]] || fail "$page: header '${lines[0]}'"
		out_has "NAME"
		out_has "       $name - "
		out_has "DESCRIPTION"
	done
}

# bats test_tags=no-storage
@test "the man pages show the docs pages they come from" {
	root=$(install_to "$BATS_TEST_TMPDIR/dest")
	render() { MANWIDTH=200 man -l "$root/share/man/$1" 2>/dev/null; }
	# a section of docs/step.md, an example, and a link turned into a page name
	out=$(render man1/task-sync-step.1)
	grep -q '^step edit$' <<<"$out" || fail "no 'step edit' section"
	grep -qF 'task-sync step edit ID (--set KEY=VALUE | --remove-key KEY)...' <<<"$out" || fail "no usage line"
	grep -qF 'task-sync-exit-codes(7)' <<<"$out" || fail "no link to task-sync-exit-codes(7)"
	# no link to a docs/ page is left as a file name
	for page in "${MAN_PAGES[@]}"; do
		! render "$page" | grep -E '\((task|step|run|report|migrate|config|gc|serve|workers|step-types|grading|exit-codes)\.md' ||
			fail "$page: a link to a docs/ page left"
	done
	# task-sync(1) names every command `task-sync --help` lists
	out=$(render man1/task-sync.1)
	for c in $(ts --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'); do
		grep -qE "^ +$c +" <<<"$out" || fail "task-sync(1) does not list '$c'"
	done
}
