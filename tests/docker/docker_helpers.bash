# shellcheck shell=bash
# Common setup for the Docker tests: `load docker_helpers` after nothing else.
#
# Builds on ../cli/helpers.bash (fresh database per test, `ts`, run_ts, ...).
# Each test gets task and step IDs from a random range (TID is the first
# task's ID, and steps start at the same number), and its database a random
# identity (DBID, 32 hex digits; DB8 its first 8, which the default names
# carry: task_<TID>_volume_<role>_<DB8>, tasksync_<DB8>_step<ID>), so those
# names never meet those of another test run, a demo, or the other backend.
# teardown removes everything labelled task-sync.task=$TID, and whatever a
# test registered with `cleanup_later KIND NAME`.
#
# Helpers:
#   test_image [VARIANT]   build (once) and print a small image FROM the base
#                          image with a git repository in /app
#   new_task               create a task in $LP (a fresh folder), print its ID
#   step_json ID EXPR      EXPR (Python over d = the step's JSON) of step ID
#   results ID EXPR        EXPR over the step's results
#   task_json ID EXPR      EXPR over the task's JSON
#   fake_docker KIND       a fake docker CLI (down | hang) in $FAKE_DOCKER
#   labelled_containers    IDs of containers labelled with this test's task
#   log_docker             a docker CLI ($LOGGED) that logs "ARG1 ARG2" of each
#                          call to $DOCKER_LOG, then runs the real one

load ../cli/helpers

# the docker CLI (Go) with one scheduler thread: 33 ms of CPU a call
# against 45 (perf stat, `docker ps`); the tests and task-sync under test
# make thousands of calls, and the two cores are the suite's limit
export GOMAXPROCS=1

BASE_IMAGE=task-sync-base:bookworm
REGISTRY=127.0.0.1:5000

docker_setup() {
	local ident
	ts_setup
	# once a run (a marker in BATS_RUN_TMPDIR): a call costs 0.1 s of CPU
	if [[ ! -e $BATS_RUN_TMPDIR/docker-running ]]; then
		docker info >/dev/null 2>&1 || fail "Docker is not running (scripts/docker-env)"
		: >"$BATS_RUN_TMPDIR/docker-running"
	fi
	ID_BASE=$(((RANDOM * 32768 + RANDOM) % 800000 + 100000))
	TID=$((ID_BASE + 1))
	"$TS_BIN" task list >/dev/null || fail "cannot create the database"
	if [[ -n ${SRANDOM:-} ]]; then
		printf -v DBID '%08x%08x%08x%08x' "$SRANDOM" "$SRANDOM" "$SRANDOM" "$SRANDOM"
	else
		DBID=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	fi
	DB8=${DBID:0:8}
	ident="INSERT INTO database_identity (id, identity) VALUES (1, '$DBID');"
	case $TS_BACKEND in
	sqlite)
		db_sql "DELETE FROM sqlite_sequence WHERE name IN ('tasks', 'steps');
			INSERT INTO sqlite_sequence (name, seq) VALUES ('tasks', $ID_BASE), ('steps', $ID_BASE);
			$ident"
		;;
	postgres)
		db_sql "SELECT setval('tasks_id_seq', $ID_BASE); SELECT setval('steps_id_seq', $ID_BASE); $ident" >/dev/null
		;;
	esac
	LP="$BATS_TEST_TMPDIR/task"
	mkdir -p "$LP"
	CLEANUP=()
}

setup() {
	docker_setup
}

cleanup_later() {
	CLEANUP+=("$1:$2")
}

docker_teardown() {
	local ids item
	unset TASK_SYNC_DOCKER TASK_SYNC_DOCKER_TIMEOUT_MS
	for item in "${CLEANUP[@]}"; do
		case ${item%%:*} in
		container) docker rm -f "${item#*:}" >/dev/null 2>&1 || true ;;
		image) docker rmi -f "${item#*:}" >/dev/null 2>&1 || true ;;
		volume) docker volume rm -f "${item#*:}" >/dev/null 2>&1 || true ;;
		esac
	done
	[[ -n ${TID:-} ]] || return 0
	ids=$(docker ps -aq --filter "label=task-sync.task=$TID")
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086
		docker rm -f $ids >/dev/null 2>&1 || true
	fi
	ids=$(docker volume ls -q --filter "label=task-sync.task=$TID")
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086
		docker volume rm -f $ids >/dev/null 2>&1 || true
	fi
	ids=$(docker images -q --filter "label=task-sync.task=$TID" | sort -u)
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086
		docker rmi -f $ids >/dev/null 2>&1 || true
	fi
}

teardown() {
	docker_teardown
}

# test_image [VARIANT]: an image with a git repository in /app holding
# hello.txt ("hello" + VARIANT); built once, kept for later runs
test_image() {
	local v=${1:-1} tag="task-sync-test/app:${1:-1}" d
	if ! docker image inspect "$tag" >/dev/null 2>&1; then
		d=$(mktemp -d)
		cat >"$d/Dockerfile" <<-DOCKERFILE
			FROM $BASE_IMAGE
			RUN mkdir -p /app && cd /app && printf 'hello $v\n' >hello.txt && \
			    git init -q && git add hello.txt && \
			    git -c user.name=t -c user.email=t@example.com commit -qm init
		DOCKERFILE
		docker build -q --network none -t "$tag" "$d" >/dev/null 2>&1 ||
			{ rm -rf "$d"; fail "cannot build $tag"; return 1; }
		rm -rf "$d"
	fi
	printf '%s\n' "$tag"
}

new_task() {
	"$TS_BIN" task create --name "docker-test" --local_path "$LP" --quiet
}

step_json() {
	json_get "$2" "$("$TS_BIN" step info "$1" --json)"
}

results() {
	json_get "d['results']$2" "$("$TS_BIN" step info "$1" --json)"
}

task_json() {
	json_get "$2" "$("$TS_BIN" task info "$1" --json)"
}

# result ID: the step's results.result, unquoted
result_of() {
	results "$1" "['result']" | tr -d '"'
}

fake_docker() {
	FAKE_DOCKER="$BATS_TEST_TMPDIR/fake-docker"
	case $1 in
	down)
		cat >"$FAKE_DOCKER" <<-'SH'
			#!/bin/sh
			echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2
			exit 1
		SH
		;;
	hang)
		cat >"$FAKE_DOCKER" <<-'SH'
			#!/bin/sh
			sleep 1000
			exit 0
		SH
		;;
	esac
	chmod +x "$FAKE_DOCKER"
}

# no process of the fake docker is left (the shell stays, so its path shows)
no_fake_left() {
	sleep 0.2
	! pgrep -f "$FAKE_DOCKER" >/dev/null || fail "a fake docker is still running"
}

# a docker that logs "ARG1 ARG2" of each call to $DOCKER_LOG
log_docker() {
	LOGGED=$BATS_TEST_TMPDIR/logged-docker
	DOCKER_LOG=$BATS_TEST_TMPDIR/docker-calls
	printf '#!/bin/sh\necho "$1 $2" >>"%s"\nexec docker "$@"\n' "$DOCKER_LOG" >"$LOGGED"
	chmod +x "$LOGGED"
	: >"$DOCKER_LOG"
}

labelled_containers() {
	docker ps -aq --filter "label=task-sync.task=$TID"
}

# the process list of a container, one "pid sid comm" per line
container_ps() {
	docker exec "$1" ps -eo pid=,sid=,comm=
}
