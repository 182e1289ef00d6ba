#!/usr/bin/env bats
# Infrastructure faults while grading: a Docker daemon that goes away, a
# database write that fails, a `docker build` that never ends. None of them
# is a verdict on a candidate: the step does not succeed, the run says how
# many and exits non-zero, and the next run grades those candidates again.

load docker_helpers
load grid_helpers

setup_file() {
	build_demo_image
}

teardown() {
	docker_teardown
}

# the demo folder in $LP, a task on it (TID, timeout_seconds=$DEMO_TIMEOUT), its pool
# (POOL) and rubric_set (RS) run; KID the first generated rubric_shell step
demo_graded() {
	demo_task
	"$TS_BIN" step run "$POOL" >/dev/null || fail "docker_pool failed"
	"$TS_BIN" step run "$RS" >/dev/null || fail "rubric_set failed"
	read -r KID _ <<<"$(children "$RS")"
}

# a docker whose daemon is gone for the grading items (`docker exec -i`)
# only: the rest (the pool's health checks too) is the real one
daemon_gone_for_exec() {
	FAKE_DOCKER="$BATS_TEST_TMPDIR/exec-dead-docker"
	cat >"$FAKE_DOCKER" <<-'SH'
		#!/bin/sh
		if [ "$1" = exec ] && [ "$2" = -i ]; then
			echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
			exit 1
		fi
		exec docker "$@"
	SH
	chmod +x "$FAKE_DOCKER"
}

# bats test_tags=storage
@test "a daemon gone mid-grading: infrastructure failures, counted, exit 1, graded again on the next run" {
	demo_graded
	daemon_gone_for_exec
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 step run "$KID"
	out_has "error: graded 4: 0 PASS, 0 FAIL, 0 TIMEOUT, 4 ERROR; 4 infrastructure failures (solution1.patch: docker exec failed (exit 1): Cannot connect to the Docker daemon"
	out_has "graded again on the next run"
	out_lacks "processed successfully"
	[[ $(cand "$KID" solution1.patch status) == '"ERROR"' ]]
	[[ $(cand "$KID" solution1.patch infrastructure) == true ]]
	# task run: the summary counts them, and the run is not a success
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 task run "$TID"
	out_has "infrastructure failures"
	out_lacks "processed successfully"
	# the daemon is back: every candidate is graded again, the one whose
	# patch does not apply is its own ERROR
	run_ts 0 step run "$KID"
	out_has "success: graded 4: 2 PASS, 0 FAIL, 1 TIMEOUT, 1 ERROR"
	[[ $(cand "$KID" solution1.patch status) == '"PASS"' ]]
	[[ $(cand "$KID" solution1.patch infrastructure) == null ]]
	[[ $(cand "$KID" solution4.patch status) == '"ERROR"' ]]
	[[ $(cand "$KID" solution4.patch infrastructure) == false ]]
	# and now it is fresh: the candidate's own ERROR is a verdict
	run_ts 0 step run "$KID" --dry-run
	out_has "fresh"
}

# bats test_tags=storage
@test "a candidate's result that cannot be written: the step does not succeed, the run exits 1" {
	demo_graded
	# every per-candidate run row fails to write; the step's own row does not
	case $TS_BACKEND in
	sqlite)
		db_sql "CREATE TRIGGER fail_candidate BEFORE INSERT ON step_runs
			WHEN NEW.detail LIKE '%\"candidate\"%'
			BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;"
		;;
	postgres)
		db_sql "CREATE FUNCTION fail_candidate() RETURNS trigger AS \$\$
			BEGIN
				IF NEW.detail::text LIKE '%\"candidate\"%' THEN
					RAISE EXCEPTION 'simulated write failure';
				END IF;
				RETURN NEW;
			END \$\$ LANGUAGE plpgsql;
			CREATE TRIGGER fail_candidate BEFORE INSERT ON step_runs
			FOR EACH ROW EXECUTE FUNCTION fail_candidate();"
		;;
	esac
	run_ts 1 task run "$TID"
	err_has "simulated write failure"
	err_has "warning: step $KID: could not record candidate"
	out_has "4 results could not be recorded when graded"
	out_has "infrastructure failures"
	out_lacks "processed successfully"
	# what was graded is kept with the step's results all the same
	[[ $(cand "$KID" solution1.patch status) == '"PASS"' ]]
}

@test "docker_build: a build that does not finish within timeout_seconds is a failure naming the deadline" {
	new_task >/dev/null
	echo "FROM scratch" >"$LP/Dockerfile"
	s=$(make_step "$TID" build '{"docker_build": {"image_tag": "task-sync-test/never:1", "timeout_seconds": 1}}')
	fake_docker hang
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 step run "$s"
	out_has "failure: docker build of 'task-sync-test/never:1' did not finish within 1 s (docker_build.timeout_seconds)"
	no_fake_left
}

@test "docker_pull: a pull that does not finish within timeout_seconds is a failure naming the deadline" {
	new_task >/dev/null
	s=$(make_step "$TID" pull '{"docker_pull": {"image_tag": "task-sync-test/never:1", "timeout_seconds": 1}}')
	# inspect answers (no such image); the pull itself hangs
	FAKE_DOCKER="$BATS_TEST_TMPDIR/pull-hangs"
	printf '#!/bin/sh\n[ "$1" = pull ] && exec sleep 1000\nexec docker "$@"\n' >"$FAKE_DOCKER"
	chmod +x "$FAKE_DOCKER"
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 step run "$s"
	out_has "failure: docker pull task-sync-test/never:1 did not finish within 1 s (docker_pull.timeout_seconds)"
	no_fake_left
}
