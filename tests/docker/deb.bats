#!/usr/bin/env bats
# The Debian package (debian/, scripts/deb; docs/install.md): built from the
# tree with dpkg-buildpackage, installed with dpkg in a clean Debian 12 (the
# base image plus dpkg and the package's dependencies, tests/docker/deb_image.sh)
# and run there: on SQLite, and on PostgreSQL when that is the backend.

load docker_helpers

# the .deb of the tree's current files, built once for both backends' runs:
# kept in DEB_CACHE/KEY (KEY: the files' hash and git description), made under
# a lock, copied out to BATS_FILE_TMPDIR
DEB_CACHE=/tmp/task-sync-deb-cache

tree_key() {
	{
		git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || true
		(cd "$REPO_ROOT" && git ls-files -z -co --exclude-standard | xargs -0 sha256sum)
	} | sha256sum | cut -c1-16
}

setup_file() {
	docker info >/dev/null 2>&1 || fail "Docker is not running (scripts/docker-env)"
	local key dir
	key=$(tree_key)
	dir="$DEB_CACHE/$key"
	mkdir -p "$DEB_CACHE"
	(
		flock 9
		if ! compgen -G "$dir/task-sync_*.deb" >/dev/null; then
			# older trees' packages go
			find "$DEB_CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
			"$REPO_ROOT/scripts/deb" --out "$dir" >/dev/null 2>"$BATS_FILE_TMPDIR/deb.err" ||
				{ cat "$BATS_FILE_TMPDIR/deb.err" >&2; exit 1; }
		fi
		cp "$dir"/task-sync_*_amd64.deb "$BATS_FILE_TMPDIR/"
	) 9>"$DEB_CACHE/lock" || fail "scripts/deb failed"
	DEB=$(cd "$BATS_FILE_TMPDIR" && ls task-sync_*_amd64.deb)
	export DEB
	export DEB_IMAGE="task-sync-test/deb:$$-$RANDOM"
	"$BATS_TEST_DIRNAME/deb_image.sh" "$DEB_IMAGE" "$BATS_FILE_TMPDIR/$DEB" 2>"$BATS_FILE_TMPDIR/image.err" ||
		{ cat "$BATS_FILE_TMPDIR/image.err" >&2; fail "cannot build $DEB_IMAGE"; }
}

teardown_file() {
	docker rmi -f "$DEB_IMAGE" >/dev/null 2>&1 || true
}

# in_image [DOCKER_RUN_ARGS...] -- SCRIPT: run bash SCRIPT in a new container of
# the clean image, the package folder mounted at /deb
in_image() {
	local -a args=()
	while [[ $1 != -- ]]; do
		args+=("$1")
		shift
	done
	shift
	run --separate-stderr docker run --rm "${args[@]}" -e HOME=/root -w /tmp \
		-v "$BATS_FILE_TMPDIR:/deb:ro" "$DEB_IMAGE" bash -euo pipefail -c "$1"
}

@test "the package's control fields: its name, version and the shared libraries it needs" {
	run dpkg-deb -f "$BATS_FILE_TMPDIR/$DEB" Package Version Architecture
	[[ $status -eq 0 ]] || { show_run; false; }
	version=$(dpkg-parsechangelog -l "$REPO_ROOT/debian/changelog" -S Version)
	out_is "Package: task-sync
Version: $version
Architecture: amd64"
	run dpkg-deb -f "$BATS_FILE_TMPDIR/$DEB" Depends
	deps=", $output,"
	# libpq5 too, which dpkg-shlibdeps cannot see (loaded with dlopen)
	for lib in libc6 libjansson4 libmicrohttpd12 libnettle8 libpq5 libsqlite3-0; do
		[[ $deps =~ ,\ ${lib}[\ ,] ]] || fail "Depends lacks $lib: $output"
	done
}

@test "the clean image has no task-sync before the package is installed" {
	in_image --network none -- 'command -v task-sync || echo "not on PATH"
		if dpkg -s task-sync >/dev/null 2>&1; then echo installed; else echo "not installed"; fi'
	[[ $status -eq 0 ]] || { show_run; false; }
	out_is "not on PATH
not installed"
}

@test "dpkg -i installs the package in a clean Debian 12, and task-sync runs there" {
	in_image --network none -- "
		dpkg -i /deb/$DEB >/dev/null
		dpkg-query -W -f='\${db:Status-Abbrev}\${Package} \${Version}\n' task-sync
		task-sync version
		task-sync task create --name packaged --quiet >/dev/null
		task-sync task list
		zcat /usr/share/man/man1/task-sync-step.1.gz | grep -c '^\\.TH'
		ls /usr/share/man/man1 /usr/share/man/man7 | grep -c '^task-sync.*\\.[17]\\.gz\$'
		. /usr/share/bash-completion/completions/task-sync
		COMP_WORDS=(task-sync step ed); COMP_CWORD=2; _task_sync; echo \"completes: \${COMPREPLY[*]}\""
	[[ $status -eq 0 ]] || { show_run; false; }
	version=$(dpkg-parsechangelog -l "$REPO_ROOT/debian/changelog" -S Version)
	[[ ${lines[0]} == "ii task-sync $version" ]] || { show_run; false; }
	[[ ${lines[1]} =~ ^task-sync\ $version\ \(.+\)$ ]] || { show_run; false; }
	[[ ${lines[2]} =~ ^ID\ +Name ]] || { show_run; false; }
	[[ ${lines[3]} =~ ^1\ +packaged ]] || { show_run; false; }
	[[ ${lines[4]} == 1 ]] || { show_run; false; }
	# every man page meson.build lists is installed
	[[ ${lines[5]} == "$(grep -c "^  \['task-sync" "$REPO_ROOT/meson.build")" ]] || { show_run; false; }
	out_has "completes: edit"
}

# bats test_tags=storage
@test "the installed task-sync works on this run's backend" {
	case $TS_BACKEND in
	sqlite) net=none ;;
	postgres) net=host ;; # the server listens on 127.0.0.1 of the host
	esac
	in_image --network "$net" -e DATABASE_URL="${DATABASE_URL:-}" -- "
		dpkg -i /deb/$DEB >/dev/null
		[ -n \"\$DATABASE_URL\" ] || unset DATABASE_URL
		task-sync migrate up >/dev/null
		task-sync migrate status
		id=\$(task-sync task create --name on-$TS_BACKEND --quiet)
		task-sync step create --task \$id --title check --settings '{\"file_exists\": [\"a.txt\"]}' --quiet >/dev/null
		task-sync task list"
	[[ $status -eq 0 ]] || { show_run; false; }
	out_has "on-$TS_BACKEND"
	if [[ $TS_BACKEND == postgres ]]; then
		# the container's rows are in the test database
		[[ $(db_sql "SELECT count(*) FROM tasks WHERE name = 'on-postgres'") == 1 ]] || fail "no row in PostgreSQL"
	fi
}

@test "without libpq5, SQLite commands run and a PostgreSQL one names the missing package" {
	# libpq is loaded at the first PostgreSQL connection, not at start
	in_image --network none -- "
		dpkg -i /deb/$DEB >/dev/null
		dpkg --remove --force-depends libpq5 >/dev/null 2>&1
		if ls /usr/lib/x86_64-linux-gnu/libpq.so.5* >/dev/null 2>&1; then echo 'libpq still there'; exit 1; fi
		task-sync task list
		DATABASE_URL=postgres://nobody@127.0.0.1:1/none task-sync task list || echo \"exit \$?\""
	[[ $status -eq 0 ]] || { show_run; false; }
	[[ ${lines[0]} =~ ^ID\ +Name ]] || { show_run; false; }
	[[ ${lines[-1]} == "exit 3" ]] || { show_run; false; }
	err_has "cannot load the PostgreSQL client library (libpq.so.5, Debian package libpq5)"
}
