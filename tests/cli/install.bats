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
