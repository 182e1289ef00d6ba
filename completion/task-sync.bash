# shellcheck shell=bash
# bash completion for task-sync: commands, subcommands, options, and task and
# step IDs from the database. The candidates come from the binary itself
# (`task-sync __complete WORD...`, src/cmd/complete.c), which reads them from
# the same command tables and option rows the command line is parsed with.
# Installed by `meson install` to share/bash-completion/completions/task-sync.

_task_sync() {
	local prog=${COMP_WORDS[0]} line
	COMPREPLY=()
	# a ~ in the program's path as typed (it is not expanded in COMP_WORDS)
	# shellcheck disable=SC2088
	[[ $prog == "~/"* ]] && prog=$HOME/${prog#"~/"}
	while IFS= read -r line; do
		COMPREPLY+=("$line")
	done < <("$prog" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
}

complete -F _task_sync task-sync
