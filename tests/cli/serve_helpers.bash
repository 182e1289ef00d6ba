# shellcheck shell=bash
# A real `task-sync serve` on a free loopback port, for serve.bats and
# browser.bats (load after helpers).
#   start_serve [ADDR:PORT]
#                 start it (on 127.0.0.1:0 by default), wait for its
#                 "listening" line; sets SERVE_PID, URL
#                 (http://127.0.0.1:PORT/) and PORT
#   stop_serve    a server still running stops on SIGTERM and exits 0
#                 (under ASan: with no leak from any request the test made)

SERVE_PID=

start_serve() {
	: >"$BATS_TEST_TMPDIR/serve.out"
	"$TS_BIN" serve --listen "${1:-127.0.0.1:0}" >"$BATS_TEST_TMPDIR/serve.out" \
		2>"$BATS_TEST_TMPDIR/serve.err" 3>&- &
	SERVE_PID=$!
	for _ in $(seq 100); do
		URL=$(sed -n 's|^task-sync serve: listening on \(http://.*/\)$|\1|p' \
			"$BATS_TEST_TMPDIR/serve.out")
		if [[ -n $URL ]]; then
			PORT=${URL##*:}
			PORT=${PORT%/}
			return 0
		fi
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/serve.err" >&2
	fail "the server did not start"
}

stop_serve() {
	local rc=0
	if [[ -n $SERVE_PID ]] && kill -0 "$SERVE_PID" 2>/dev/null; then
		kill -TERM "$SERVE_PID"
		wait "$SERVE_PID" || rc=$?
		if [[ $rc != 0 ]]; then
			cat "$BATS_TEST_TMPDIR/serve.err" >&2
			fail "the server exited $rc on SIGTERM"
		fi
	fi
}
