#!/usr/bin/env bats
# installable like a real tool: the version and git description, bash
# completion, man pages, and `meson install` (docs/install.md)

load helpers

setup() {
	ts_setup
}

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

@test "bash completion completes commands" {
	completes_to "step" st
	completes_to "task step run-steps migrate config cleanup gc version" ""
	completes_to "--help --version" -
	completes_to "" nosuch ""
}

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
