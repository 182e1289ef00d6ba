#!/usr/bin/env bats
# Grading across workers (docs/workers.md): a grid of 36 items and three
# workers sharing one PostgreSQL and one Docker engine, one killed with
# kill -9 mid-run; SIGTERM drains; a worker whose claim was taken while it
# was stopped records nothing. PostgreSQL only (the queue needs it).

# bats file_tags=storage
load docker_helpers
load grid_helpers

# shellcheck disable=SC2034 # read by grid_helpers
COLS='["solution1.patch", "solution2.patch", "solution3.patch", "solution4.patch", "original", "golden"]'
# the demo's rows (grading.bats), twice: rubrics6.json doubles the criteria
ROWS='["PASS","PASS","TIMEOUT","ERROR","FAIL","PASS"],["PASS","FAIL","TIMEOUT","ERROR","FAIL","PASS"],["PASS","PASS","PASS","ERROR","PASS","PASS"]'
EXPECTED="[$ROWS,$ROWS]"
HB=500

setup_file() {
	[[ ${TASK_SYNC_BACKEND:-sqlite} == postgres ]] || return 0
	build_demo_image
}

setup() {
	pg_only
	docker_setup
	PIDS=()
	CLEANUP_NS=()
	VETH=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${CLEANUP_NS[@]}"; do
		ip netns del "$p" 2>/dev/null || true
	done
	for p in "${VETH[@]}"; do
		ip link del "$p" 2>/dev/null || true
	done
	docker_teardown
}

only_keepalive() {
	local ps rest
	ps=$(container_ps "$1") || fail "cannot list the processes of $1"
	rest=$(awk '$3 != "ps" { print $2, $3 }' <<<"$ps" | sort)
	[[ $rest == $'1 docker-init\n1 sleep' ]]
}

# rubrics6.json in $LP: the demo's three criteria and three more like them
six_criteria() {
	python3 - "$LP/rubrics.json" "$LP/rubrics6.json" <<-'PY'
		import json, sys
		r = json.load(open(sys.argv[1]))
		more = []
		for c in r:
		    c = dict(c)
		    c["rubricItemId"] = c["rubricItemId"][:-4] + "%04d" % (len(more) + 91)
		    more.append(c)
		json.dump(r + more, open(sys.argv[2], "w"))
	PY
}

declare -ga NS VETH URL CLEANUP_NS
# start_worker NAME ARGS...: a worker in the background, its pid in PIDS
# and in WPID[NAME], its output in $BATS_TEST_TMPDIR/NAME.log
declare -gA WPID
start_worker() {
	local name=$1
	shift
	"$TS_BIN" worker --name "$name" --heartbeat-ms "$HB" "$@" \
		>"$BATS_TEST_TMPDIR/$name.log" 2>&1 3>&- &
	WPID[$name]=$!
	PIDS+=($!)
}

# wait_gone PID SECONDS: until the process has ended; its exit code in RC
wait_gone() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && fail "process $1 still runs after $2 s"
	RC=0
	wait "$1" || RC=$?
}

# wait_sql SQL SECONDS: until SQL prints t
wait_sql() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ $(db_sql "$1") == t ]] && return 0
		sleep 0.1
	done
	fail "still not true after $2 s: $1"
}

counts() {
	db_sql "SELECT string_agg(state || ' ' || n, ', ' ORDER BY state) FROM
		(SELECT state, count(*) n FROM work_items WHERE task_id = $TID GROUP BY state) x"
}

@test "36 items, three workers, one killed with kill -9 mid-run: every item ends once with the single-machine verdict, its items are reclaimed once their lease (two heartbeats) has ended and a slot is free, nothing is left in any container" {
	demo_task rubrics6.json
	six_criteria
	# room for a loaded machine: the hanging candidate is the only TIMEOUT
	"$TS_BIN" task edit "$TID" --set timeout_seconds=8 >/dev/null
	run_ts 0 task run "$TID" --queue --golden
	out_has "Queued 2 items"
	start_worker w1 --once --concurrency 2
	start_worker w2 --once --concurrency 3
	start_worker w3 --once --concurrency 3
	# w1 holds a grading item, and some are done
	wait_sql "SELECT count(*) FILTER (WHERE owner = 'w1' AND state = 'running' AND candidate IS NOT NULL) > 0
		AND count(*) FILTER (WHERE state = 'succeeded') >= 6 FROM work_items WHERE task_id = $TID" 90
	kill -9 "${WPID[w1]}"
	killed_at=$(db_sql "SELECT now()")
	# what w1 held when it died (read after the kill: before it, w1 could
	# still finish an item; its lease keeps the rest w1's for a second)
	held=$(db_sql "SELECT string_agg(id::text, ' ') FROM work_items WHERE owner = 'w1' AND state = 'running'")
	[[ -n $held ]] || fail "w1 held nothing at the kill"
	wait_gone "${WPID[w2]}" 180
	[[ $RC -eq 0 ]] || fail "w2 exit $RC: $(cat "$BATS_TEST_TMPDIR/w2.log")"
	wait_gone "${WPID[w3]}" 60
	[[ $RC -eq 0 ]] || fail "w3 exit $RC"
	# 2 (pool, rubric_set) + 6 criteria x 6 candidates
	[[ $(counts) == "succeeded 38" ]] ||
		fail "$(counts): $(db_sql "SELECT * FROM work_items WHERE state <> 'succeeded'")
$(grep -h -B3 failed: "$BATS_TEST_TMPDIR"/w[23].log)"
	assert_grid "$EXPECTED"
	# every item w1 held was claimed again by another worker
	for i in $held; do
		[[ $(db_sql "SELECT owner <> 'w1' AND attempts = 2 FROM work_items WHERE id = $i") == t ]] ||
			fail "item $i: $(db_sql "SELECT * FROM work_items WHERE id = $i")"
	done
	# within two heartbeats of the kill when a slot is free (an idle slot
	# wakes as the lease ends: tests/cli/workers.bats times that to the
	# millisecond); here the other workers' six slots may all be busy,
	# with items of up to one limit and its grace (8 s + 2 s, the hanging
	# candidate), and 2 s more for a loaded machine
	late=$(db_sql "SELECT max(EXTRACT(EPOCH FROM claimed_at - '$killed_at'::timestamptz) * 1000)::int
		FROM work_items WHERE id IN (${held// /,})")
	echo "reclaimed $late ms after the kill" >&3
	((late <= 2 * HB + 12000)) || fail "reclaimed $late ms after the kill"
	# exactly once: one run row per criterion x candidate, graded on w2 or w3
	# for the reclaimed ones
	[[ $(db_sql "SELECT count(*) FROM step_runs r JOIN steps s ON s.id = r.step_id
		WHERE s.task_id = $TID AND r.detail ? 'candidate'") == 36 ]]
	[[ $(db_sql "SELECT count(*) FROM (SELECT r.step_id, r.detail->>'candidate' FROM step_runs r
		JOIN steps s ON s.id = r.step_id WHERE s.task_id = $TID AND r.detail ? 'candidate'
		GROUP BY 1, 2 HAVING count(*) <> 1) x") == 0 ]]
	for i in $held; do
		[[ $(db_sql "SELECT r.detail->'graded_on'->>'worker' FROM step_runs r JOIN work_items w
			ON w.step_id = r.step_id AND w.candidate = r.detail->>'candidate' WHERE w.id = $i") == w[23] ]]
	done
	# each result names its worker, host and image
	run_ts 0 step list --task "$TID" --json
	assert_json_eq 'sorted({c["graded_on"]["worker"] in ("w1", "w2", "w3") and c["graded_on"]["host"] != "" and c["graded_on"]["image_id"].startswith("sha256:") for s in d if "rubric_shell" in s["settings"] for k, c in s["results"].items() if isinstance(c, dict) and "status" in c})' '[true]'
	# each worker graded in containers of its own, labelled with it and the
	# database
	assert_json_eq 'sorted({c["container"].split("_")[3] == c["graded_on"]["worker"] for s in d if "rubric_shell" in s["settings"] for k, c in s["results"].items() if isinstance(c, dict) and "status" in c})' '[true]'
	for w in w1 w2 w3; do
		[[ $(docker ps -q --filter "label=task-sync.worker=$w" --filter "label=task-sync.db=$DBID" \
			--filter "label=task-sync.task=$TID" | wc -l) -ge 1 ]] || fail "no container of $w"
	done
	# nothing is left running in any container (the killed item's harness
	# ends when its stdin closes)
	for c in $(labelled_containers); do
		clean=0
		for _ in $(seq 100); do
			only_keepalive "$c" && clean=1 && break
			sleep 0.1
		done
		((clean)) || fail "left behind in $c: $(container_ps "$c")"
	done
}

@test "SIGTERM: the worker finishes the item it runs, records it, claims nothing more and exits 0; another worker drains the rest" {
	demo_task
	"$TS_BIN" task edit "$TID" --set timeout_seconds=8 >/dev/null
	run_ts 0 task run "$TID" --queue --golden
	start_worker w1 --concurrency 1
	wait_sql "SELECT count(*) > 0 FROM work_items WHERE owner = 'w1' AND state = 'running' AND candidate IS NOT NULL" 90
	item=$(db_sql "SELECT id FROM work_items WHERE owner = 'w1' AND state = 'running'")
	kill -TERM "${WPID[w1]}"
	wait_gone "${WPID[w1]}" 30
	cat "$BATS_TEST_TMPDIR/w1.log" >&2
	[[ $RC -eq 0 ]] || fail "exit $RC"
	[[ $(db_sql "SELECT state FROM work_items WHERE id = $item") == succeeded ]]
	[[ $(db_sql "SELECT count(*) FROM work_items WHERE task_id = $TID AND state = 'running'") == 0 ]]
	[[ $(db_sql "SELECT count(*) > 0 FROM work_items WHERE task_id = $TID AND state = 'queued'") == t ]]
	grep -q "^worker w1: stopped: " "$BATS_TEST_TMPDIR/w1.log"
	start_worker w2 --once --concurrency 4
	wait_gone "${WPID[w2]}" 120
	[[ $RC -eq 0 ]]
	[[ $(counts) == "succeeded 20" ]] || fail "$(counts)"
	assert_grid "[$ROWS]"
}

@test "a worker stopped past its lease loses its item to another worker; when it resumes, its late result is not recorded" {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	rm "$LP"/solution[234].patch
	python3 - "$LP/rubrics.json" <<-'PY'
		import json, sys
		r = json.load(open(sys.argv[1]))[:1]
		r[0]["forms"]["f1"]["criterion_test_command"] = "sleep 3; echo '#__PASS__#'"
		json.dump(r, open(sys.argv[1], "w"))
	PY
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=20 >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$DEMO_TAG\", \"pool_size\": 6}}")
	make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"rubrics.json\", \"depends_on\": [{\"id\": $POOL}]}}" >/dev/null
	run_ts 0 task run "$TID" --queue
	start_worker w1 --once
	wait_sql "SELECT count(*) > 0 FROM work_items WHERE owner = 'w1' AND state = 'running' AND candidate IS NOT NULL" 60
	item=$(db_sql "SELECT id FROM work_items WHERE owner = 'w1' AND state = 'running'")
	kill -STOP "${WPID[w1]}"
	start_worker w2 --once
	wait_gone "${WPID[w2]}" 60
	[[ $RC -eq 0 ]]
	grep -q "item $item .* reclaimed from: w1" "$BATS_TEST_TMPDIR/w2.log"
	[[ $(db_sql "SELECT owner || ' ' || state FROM work_items WHERE id = $item") == "w2 succeeded" ]]
	kill -CONT "${WPID[w1]}"
	wait_gone "${WPID[w1]}" 30
	cat "$BATS_TEST_TMPDIR/w1.log" >&2
	grep -q "item $item .* lost: its claim was taken by another worker; nothing recorded" "$BATS_TEST_TMPDIR/w1.log"
	step=$(db_sql "SELECT step_id FROM work_items WHERE id = $item")
	# w2's result stands: one run of the candidate, w2's
	[[ $(db_sql "SELECT string_agg(detail->'graded_on'->>'worker', ' ') FROM step_runs
		WHERE step_id = $step AND detail ? 'candidate'") == w2 ]]
	[[ $(results "$step" "['solution1.patch']['graded_on']['worker']") == '"w2"' ]]
	[[ $(cand "$step" solution1.patch status) == '"PASS"' ]]
}

# hosts N: N "machines" in network namespaces made here, each reaching
# PostgreSQL at an address of its own (10.231.X.1, forwarded to 127.0.0.1)
# and sharing the one Docker engine (its socket is not bound to a network
# namespace). Host i: namespace NS[i], host-side veth VETH[i], URL[i].
hosts() {
	local i base port url
	if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null; then
		skip "needs root and iproute2"
	fi
	# a range of its own per PostgreSQL slot: tests side by side never meet
	base=$(((${TS_PG_SLOT:-1} - 1) % 4 * 50 + RANDOM % 46 + 20))
	port=${TASK_SYNC_PG_URL##*:}
	port=${port%%/*}
	for ((i = 1; i <= $1; i++)); do
		NS[i]="tsw${base}n$i"
		VETH[i]="tsw${base}h$i"
		ip netns add "${NS[i]}"
		CLEANUP_NS+=("${NS[i]}")
		ip link add "${VETH[i]}" type veth peer name "tsw${base}c$i"
		ip link set "tsw${base}c$i" netns "${NS[i]}"
		ip addr add "10.231.$((base + i)).1/24" dev "${VETH[i]}"
		ip link set "${VETH[i]}" up
		ip netns exec "${NS[i]}" ip addr add "10.231.$((base + i)).2/24" dev "tsw${base}c$i"
		ip netns exec "${NS[i]}" ip link set "tsw${base}c$i" up
		ip netns exec "${NS[i]}" ip link set lo up
		python3 "$BATS_TEST_DIRNAME/tcp_forward.py" "10.231.$((base + i)).1" "$port" 127.0.0.1 "$port" 3>&- &
		PIDS+=($!)
		url=${TASK_SYNC_PG_URL/@127.0.0.1:/@10.231.$((base + i)).1:}
		URL[i]=$url
	done
	sleep 0.5
}

# start_host_worker I NAME ARGS...: a worker on host I
start_host_worker() {
	local i=$1 name=$2
	shift 2
	ip netns exec "${NS[i]}" env DATABASE_URL="${URL[i]}" DB_TIMEOUT_SECONDS=5 \
		"$TS_BIN" worker --name "$name" --heartbeat-ms "$HB" "$@" \
		>"$BATS_TEST_TMPDIR/$name.log" 2>&1 3>&- &
	WPID[$name]=$!
	PIDS+=($!)
}

@test "three workers as three hosts in network namespaces: one cut off mid-item (its veth down) loses its items to the others and never records a stale result; the grid is the single-machine one" {
	hosts 3
	demo_task rubrics6.json
	six_criteria
	# room for a loaded machine: the hanging candidate is the only TIMEOUT
	"$TS_BIN" task edit "$TID" --set timeout_seconds=8 >/dev/null
	run_ts 0 task run "$TID" --queue --golden
	start_host_worker 1 w1 --once --concurrency 2
	start_host_worker 2 w2 --once --concurrency 2
	start_host_worker 3 w3 --once --concurrency 2
	wait_sql "SELECT count(*) FILTER (WHERE owner = 'w1' AND state = 'running' AND candidate IS NOT NULL) > 0
		AND count(*) FILTER (WHERE state = 'succeeded') >= 6 FROM work_items WHERE task_id = $TID" 90
	ip link set "${VETH[1]}" down
	# what w1 held when it was cut off, and the newest run recorded by then:
	# w1 may have recorded a candidate's run just before the cut, its item
	# still unfinished (the finish did not get through): that run is
	# history, made while w1 held the item, and the item is graded again by
	# its next owner. A run of w1's recorded after the cut would be stale.
	held=$(db_sql "SELECT string_agg(id::text, ' ') FROM work_items WHERE owner = 'w1' AND state = 'running'")
	cut=$(db_sql "SELECT COALESCE(max(id), 0) FROM step_runs")
	# the others take w1's items over
	wait_sql "SELECT count(*) = 0 FROM work_items WHERE owner = 'w1' AND state = 'running'" 60
	wait_gone "${WPID[w2]}" 180
	[[ $RC -eq 0 ]] || fail "w2 exit $RC"
	wait_gone "${WPID[w3]}" 60
	# w1 comes back: whatever it finished meanwhile is refused
	ip link set "${VETH[1]}" up
	wait_gone "${WPID[w1]}" 90
	cat "$BATS_TEST_TMPDIR/w1.log" >&2
	[[ $(counts) == "succeeded 38" ]] ||
		fail "$(counts): $(db_sql "SELECT * FROM work_items WHERE state <> 'succeeded'")
$(grep -h -B3 failed: "$BATS_TEST_TMPDIR"/w[23].log)"
	assert_grid "$EXPECTED"
	[[ -n $held ]] || fail "w1 held no item when it was cut off"
	for i in $held; do
		[[ $(db_sql "SELECT owner <> 'w1' FROM work_items WHERE id = $i") == t ]]
		# one run by the new owner; any of w1's came before the cut
		runs=$(db_sql "SELECT string_agg(CASE WHEN r.detail->'graded_on'->>'worker' = 'w1'
				AND r.id <= $cut THEN 'w1-before-cut' ELSE r.detail->'graded_on'->>'worker' END, ' ' ORDER BY r.id)
			FROM step_runs r JOIN work_items w
			ON w.step_id = r.step_id AND w.candidate = r.detail->>'candidate' WHERE w.id = $i")
		[[ $runs == w[23] || $runs == "w1-before-cut w"[23] ]] || fail "item $i: runs by $runs"
	done
	# every cell graded once, w1's runs of the held items before the cut aside
	[[ $(db_sql "SELECT count(*) FROM (SELECT r.step_id, r.detail->>'candidate' FROM step_runs r
		JOIN steps s ON s.id = r.step_id WHERE s.task_id = $TID AND r.detail ? 'candidate'
		AND NOT (r.detail->'graded_on'->>'worker' = 'w1' AND r.id <= $cut AND
			(r.step_id, r.detail->>'candidate') IN (SELECT step_id, candidate FROM work_items
				WHERE id IN (${held// /, })))
		GROUP BY 1, 2 HAVING count(*) <> 1) x") == 0 ]]
}

# own_image: an image of our own (the demo image and a label with the task,
# so the teardown removes it and no other test's image is touched), pushed
# to the local registry as REF (REPO:TID); its ID in IMG
own_image() {
	REPO="$REGISTRY/task-sync-test/workers-img"
	REF="$REPO:$TID"
	cleanup_later image "$REF"
	printf 'FROM %s\nLABEL task-sync.task=%s\n' "$DEMO_TAG" "$TID" |
		docker build -q --network none -t "$REF" - >/dev/null || fail "cannot build $REF"
	docker push "$REF" >/dev/null 2>&1 || fail "cannot push $REF (is the registry up? scripts/docker-env)"
	IMG=$(docker image inspect --format '{{.Id}}' "$REF")
}

# pulled_task: the demo folder in $LP and a task (TID) whose docker_pull
# (PULL) of REF comes before the pool (POOL, on the pulled image) and the
# rubric_set (RS); run on this machine: the single-machine grid. Run twice:
# the second run's pull is skipped and keeps the repo digest
pulled_task() {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=8 >/dev/null
	PULL=$(make_step "$TID" pull "{\"docker_pull\": {\"image_tag\": \"$REF\"}}")
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"pool_size\": 6, \"depends_on\": [{\"id\": $PULL}]}}")
	RS=$(make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"rubrics.json\", \"depends_on\": [{\"id\": $POOL}]}}")
	run_ts 0 task run "$TID" --golden
	assert_grid "[$ROWS]"
	[[ $(results "$PULL" "['image_id']") == "\"$IMG\"" ]]
	DIGEST=$(results "$PULL" "['repo_digest']" | tr -d '"')
	[[ $DIGEST == "$REPO@sha256:"* ]] || fail "repo_digest: $DIGEST"
	run_ts 0 task run "$TID" --golden
	out_has "skipped: not pulling $REF"
	[[ $(results "$PULL" "['repo_digest']") == "\"$DIGEST\"" ]]
}

# pool_elsewhere: the pool ran on another machine and this one only grades
# (the pool step leaves the task; the containers_map it recorded stays)
pool_elsewhere() {
	run_ts 0 step edit "$RS" --set rubric_set.depends_on='[]'
	run_ts 0 step delete "$POOL"
}

# lose_image: this engine no longer holds IMG (the task's containers go
# first: they hold it)
lose_image() {
	local ids
	ids=$(docker ps -aq --filter "label=task-sync.task=$TID")
	# shellcheck disable=SC2086
	[[ -z $ids ]] || docker rm -f $ids >/dev/null
	docker rmi "$REF" >/dev/null
	! docker image inspect "$IMG" >/dev/null 2>&1 || fail "$IMG is still here"
}

# queue_pull_grade: queue the task's golden run; worker w1 (--once) pulls
# IMG by DIGEST, holds it after, and grades the single-machine grid
queue_pull_grade() {
	run_ts 0 task run "$TID" --queue --golden
	start_worker w1 --once --concurrency 2
	wait_gone "${WPID[w1]}" 180
	[[ $RC -eq 0 ]] || fail "exit $RC: $(cat "$BATS_TEST_TMPDIR/w1.log")"
	grep -q "docker pull $DIGEST" "$BATS_TEST_TMPDIR/w1.log" ||
		fail "no pull by digest: $(cat "$BATS_TEST_TMPDIR/w1.log")"
	[[ $(docker image inspect --format '{{.Id}}' "$IMG") == "$IMG" ]] || fail "$IMG is not here"
	assert_grid "[$ROWS]"
}

@test "images by digest: a worker whose engine lacks the task's image pulls it by the digest docker_pull recorded and grades with the single-machine verdicts; each result records that image ID" {
	own_image
	pulled_task
	pool_elsewhere
	lose_image
	queue_pull_grade
	run_ts 0 step list --task "$TID" --json
	assert_json_eq 'sorted({c["graded_on"]["worker"] + " " + c["graded_on"]["image_id"] for s in d if "rubric_shell" in s["settings"] for k, c in s["results"].items() if isinstance(c, dict) and "status" in c})' "[\"w1 $IMG\"]"
}

@test "images by digest: the pool step, run by a worker whose engine lacks the image, pulls it by digest first" {
	own_image
	pulled_task
	lose_image
	queue_pull_grade
	grep -q "^Processing step ID $POOL (pool)... success" "$BATS_TEST_TMPDIR/w1.log"
}

@test "images by digest: a recorded digest the registry no longer has is an ERROR (infrastructure) naming the image and what was tried, not a verdict" {
	own_image
	pulled_task
	pool_elsewhere
	lose_image
	# the registry forgets the manifest (scripts/docker-env enables deletes)
	code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
		"http://$REGISTRY/v2/task-sync-test/workers-img/manifests/${DIGEST#*@}")
	[[ $code == 202 ]] || fail "registry DELETE: $code"
	run_ts 0 task run "$TID" --queue --golden
	start_worker w1 --once --concurrency 2
	wait_gone "${WPID[w1]}" 180
	[[ $RC -eq 0 ]] || fail "exit $RC: $(cat "$BATS_TEST_TMPDIR/w1.log")"
	if docker image inspect "$IMG" >/dev/null 2>&1; then fail "$IMG was fetched"; fi
	assert_grid '[["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"]]'
	step=$(children "$RS" | cut -d' ' -f1)
	for k in solution1.patch golden; do
		reason=$(results "$step" "['$k']['reason']")
		[[ $reason == *"image $IMG is not on this engine; docker pull $DIGEST failed: "*"; no other source"* ]] ||
			fail "reason: $reason"
		[[ $(cand "$step" "$k" infrastructure) == true ]] || fail "not infrastructure: $(results "$step" "['$k']")"
	done
}

@test "images by digest: with no digest, a worker builds the task's docker_build step from the task folder; a build with another image ID is an ERROR (infrastructure) naming both IDs" {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	mkdir "$LP/img"
	printf 'FROM %s\nLABEL task-sync-test.build=%s\n' "$DEMO_TAG" "$TID" >"$LP/img/Dockerfile"
	REF="task-sync-test/workers-build:$TID"
	cleanup_later image "$REF"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=8 >/dev/null
	BUILD=$(make_step "$TID" build "{\"docker_build\": {\"image_tag\": \"$REF\", \"context\": \"img\", \"params\": [\"--network\", \"none\"]}}")
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"pool_size\": 6, \"depends_on\": [{\"id\": $BUILD}]}}")
	RS=$(make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"rubrics.json\", \"depends_on\": [{\"id\": $POOL}]}}")
	run_ts 0 task run "$TID" --golden
	assert_grid "[$ROWS]"
	IMG=$(results "$BUILD" "['image_id']" | tr -d '"')
	pool_elsewhere
	lose_image
	run_ts 0 task run "$TID" --queue --golden
	# the build ran on another machine too: its item is that machine's
	[[ $(db_sql "UPDATE work_items SET state = 'succeeded', owner = 'machine-a'
		WHERE task_id = $TID AND step_id = $BUILD AND state = 'queued' RETURNING id" | wc -l) == 1 ]]
	start_worker w1 --once --concurrency 2
	wait_gone "${WPID[w1]}" 180
	[[ $RC -eq 0 ]] || fail "exit $RC: $(cat "$BATS_TEST_TMPDIR/w1.log")"
	grep -q "docker build -t $REF (step $BUILD)" "$BATS_TEST_TMPDIR/w1.log" ||
		fail "no build: $(cat "$BATS_TEST_TMPDIR/w1.log")"
	got=$(docker image inspect --format '{{.Id}}' "$REF")
	[[ $got != "$IMG" ]] || skip "the build gave the same image ID"
	assert_grid '[["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"]]'
	step=$(children "$RS" | cut -d' ' -f1)
	reason=$(results "$step" "['original']['reason']")
	[[ $reason == *"built $REF has image ID $got, not the recorded $IMG: not graded on another image"* ]] ||
		fail "reason: $reason"
	[[ $(cand "$step" original infrastructure) == true ]]
}

@test "images by digest: an image no docker_pull or docker_build step recorded, missing on the worker's engine, is an ERROR (infrastructure) for every candidate, its reason one line saying so" {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	# built here by hand, not by a step: no step of the task recorded it
	REF="task-sync-test/workers-unrecorded:$TID"
	cleanup_later image "$REF"
	printf 'FROM %s\nLABEL task-sync.task=%s\n' "$DEMO_TAG" "$TID" |
		docker build -q --network none -t "$REF" - >/dev/null || fail "cannot build $REF"
	IMG=$(docker image inspect --format '{{.Id}}' "$REF")
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=8 >/dev/null
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$REF\", \"pool_size\": 6}}")
	RS=$(make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"rubrics.json\", \"depends_on\": [{\"id\": $POOL}]}}")
	# the pool runs on another machine; this one lacks the image
	run_ts 0 step run "$POOL"
	[[ $(task_json "$TID" "d['settings']['containers_map']['golden']['image_id']") == "\"$IMG\"" ]] ||
		fail "containers_map: $(task_json "$TID" "d['settings'].get('containers_map')")"
	pool_elsewhere
	lose_image
	run_ts 0 task run "$TID" --queue --golden
	start_worker w1 --once --concurrency 2
	wait_gone "${WPID[w1]}" 180
	[[ $RC -eq 0 ]] || fail "exit $RC: $(cat "$BATS_TEST_TMPDIR/w1.log")"
	if docker image inspect "$IMG" >/dev/null 2>&1; then fail "$IMG was fetched"; fi
	assert_grid '[["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"]]'
	for step in $(children "$RS"); do
		for k in solution1.patch solution2.patch solution3.patch solution4.patch original golden; do
			[[ $(results "$step" "['$k']['reason']") == "\"image $IMG is not on this engine; no docker_pull step recorded a registry digest for it and no docker_build step built it\"" ]] ||
				fail "step $step, $k: $(results "$step" "['$k']")"
			[[ $(cand "$step" "$k" infrastructure) == true ]] || fail "not infrastructure: $(results "$step" "['$k']")"
		done
	done
}
