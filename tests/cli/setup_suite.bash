# shellcheck shell=bash
# Run once per `bats` run of this folder (or of any file in it).
#
# On the postgres backend, the run gets a database of its own on the server
# of TASK_SYNC_PG_URL, and TASK_SYNC_PG_URL is pointed at it for the tests, so
# two runs sharing a server (two developers, or a developer and CI) cannot
# reset each other's tables half-way through a test. Tests run side by side
# (bats --jobs) take slots: this database and copies named after it
# (pg_slot in helpers.bash). They are dropped at the end. Without the right
# to create databases the tests use TASK_SYNC_PG_URL as given, one at a time.

setup_suite() {
	local name url
	[[ ${TASK_SYNC_BACKEND:-sqlite} == postgres && -n ${TASK_SYNC_PG_URL:-} ]] || return 0
	name="task_sync_cli_$$_$RANDOM"
	url=$(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$TASK_SYNC_PG_URL" "$name") || return 1
	if psql -q -X -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_URL" -c "CREATE DATABASE $name" >/dev/null 2>&1; then
		export TASK_SYNC_PG_ADMIN_URL="$TASK_SYNC_PG_URL"
		export TASK_SYNC_PG_RUN_DB="$name"
		export TASK_SYNC_PG_URL="$url"
	else
		echo "# cannot create a database for this run; using $TASK_SYNC_PG_URL as it is" >&3
	fi
}

teardown_suite() {
	local made
	[[ -n ${TASK_SYNC_PG_RUN_DB:-} ]] || return 0
	psql -q -X "$TASK_SYNC_PG_ADMIN_URL" \
		-c "DROP DATABASE IF EXISTS $TASK_SYNC_PG_RUN_DB WITH (FORCE)" >/dev/null 2>&1 || true
	# the other slots' databases (pg_slot)
	for made in "$BATS_RUN_TMPDIR"/pg-slot-*.made; do
		[[ -e $made ]] || continue
		made=${made##*/pg-slot-}
		psql -q -X "$TASK_SYNC_PG_ADMIN_URL" \
			-c "DROP DATABASE IF EXISTS ${TASK_SYNC_PG_RUN_DB}_${made%.made} WITH (FORCE)" >/dev/null 2>&1 || true
	done
}
