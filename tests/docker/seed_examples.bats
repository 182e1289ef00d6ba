#!/usr/bin/env bats
# The seed's Docker `step create` examples (tests/fixtures/seed/create-*.sh),
# run against the real engine as a user would: only the task ID, the step IDs
# they depend on, the image names (local images: Docker Hub is not reachable)
# and the pool's container names are changed.

load docker_helpers

SEED="$REPO_ROOT/tests/fixtures/seed"

# seed_create N [SED-EXPR...]: run create-N-*.sh from the task folder with
# ./task-sync, the task ID replaced by $TID and each SED-EXPR applied; print
# the new step's ID
seed_create() {
	local f n=$1 out
	shift
	f=$(echo "$SEED"/create-0"$n"-*.sh)
	local -a subst=(-e "s/--task-id 1 /--task-id $TID /")
	local e
	for e in "$@"; do
		subst+=(-e "$e")
	done
	out=$(cd "$LP" && sed "${subst[@]}" "$f" | bash) || fail "create-0$n failed: $out"
	[[ $out =~ ^Step\ created\ with\ ID:\ ([0-9]+)$ ]] || fail "create-0$n printed: $out"
	echo "${BASH_REMATCH[1]}"
}

# the seed's app: app/main.go, app/go.mod, app/Dockerfile; the image has a git
# repository in /app with ./my_app (a long-running service) and tests/run.sh
seed_app() {
	mkdir -p "$LP/app/tests"
	printf 'package main\n\nfunc main() {}\n' >"$LP/app/main.go"
	printf 'module example.com/app\n' >"$LP/app/go.mod"
	printf '#!/bin/sh\necho "my_app $*" >/tmp/my_app.args\nexec tail -f /dev/null\n' >"$LP/app/my_app"
	printf '#!/bin/sh\necho "tests ran in $(pwd)"\n' >"$LP/app/tests/run.sh"
	printf 'hello\n' >"$LP/app/greeting.txt"
	cat >"$LP/app/Dockerfile" <<-EOF
		FROM $BASE_IMAGE
		COPY . /app/
		RUN cd /app && chmod +x my_app tests/run.sh && git init -q && git add -A && \\
		    git -c user.name=t -c user.email=t@example.com commit -qm app
		WORKDIR /app
	EOF
	# task-sync's ./task-sync wrapper, as the seed runs it
	ln -s "$REPO_ROOT/task-sync" "$LP/task-sync"
}

@test "seed: the docker_build, docker_run, docker_shell, docker_pool and docker_pull examples work as written" {
	seed_app
	new_task >/dev/null
	tag="task-sync-test/my-app:$TID"
	build=$(seed_create 1 "s|my-app:1.0|$tag|")
	cleanup_later image "$tag"
	run=$(seed_create 2 "s|my-app:1.0|$tag|")
	shell=$(seed_create 3 "s|\"id\": 3|\"id\": $run|")
	pool=$(seed_create 7 "s|my-worker:1.0|$tag|" "s|\"id\": 7|\"id\": $build|")
	ref="$REGISTRY/task-sync-test/nginx:$TID"
	docker tag "$(test_image)" "$ref"
	cleanup_later image "$ref"
	docker push "$ref" >/dev/null 2>&1 || fail "cannot push $ref (is the registry up? scripts/docker-env)"
	docker rmi "$ref" >/dev/null
	pull=$(seed_create 6 "s|nginx:latest|$ref|")

	run_ts 0 task run "$TID"
	out_has "Processing step ID $build (Build App Image)... success: built $tag (sha256:"
	out_has "Processing step ID $run (Run App Container)... success: container tasksync_${DB8}_step$run running from $tag"
	out_has "Processing step ID $shell (Run Tests in Container)... success: 1 command ran in tasksync_${DB8}_step$run"
	out_has "Processing step ID $pool (Create Worker Pool)... success: 4 containers running"
	out_has "Processing step ID $pull (Pull Nginx Image)... success: pulled $ref (sha256:"
	out_has "5 ran (5 succeeded, 0 failed), 0 fresh, 0 blocked"

	# docker_build: params went to docker build; the files are hashed
	[[ $(results "$build" "['image_id']") == "\"$(docker image inspect --format '{{.Id}}' "$tag")\"" ]]
	# docker_run: the command and its arguments, the -p parameter
	[[ $(docker exec "tasksync_${DB8}_step$run" cat /tmp/my_app.args) == "my_app --mode production" ]]
	[[ $(docker inspect --format '{{json .HostConfig.PortBindings}}' "tasksync_${DB8}_step$run") == *'"8080"'* ]]
	# docker_shell: the labelled command's output
	[[ $(results "$shell" "['outputs'][0]['label']") == '"run_application_tests"' ]]
	[[ $(results "$shell" "['outputs'][0]['output']") == '"tests ran in /app\n"' ]]
	# docker_pool: four running containers with the memory limit, listed in results
	run_ts 0 step info "$pool" --json
	assert_json_eq 'len(d["results"]["containers"])' 4
	for c in $(json_get '" ".join(c["container_name"] for c in d["results"]["containers"])' | tr -d '"'); do
		[[ $(docker inspect --format '{{.State.Running}} {{.HostConfig.Memory}}' "$c") == "true 268435456" ]] ||
			fail "$c: $(docker inspect --format '{{.State.Running}} {{.HostConfig.Memory}}' "$c")"
	done
	# docker_pull: the image is here now
	docker image inspect "$ref" >/dev/null

	# nothing changed: a second run redoes nothing it need not
	run_ts 0 task run "$TID"
	out_has "Processing step ID $build (Build App Image)... fresh"
	out_has "Processing step ID $pull (Pull Nginx Image)... skipped"
	# a changed input file rebuilds
	printf 'package main\n\nfunc main() { println("v2") }\n' >"$LP/app/main.go"
	run_ts 0 step run "$build"
	out_has "success: built $tag"
}

# the grading files the seed's rubric examples name, for the app above:
# greeting.txt must say "world"; solution1 does, solution2 does not
seed_grading_files() {
	local d
	d=$(mktemp -d)
	(
		cd "$d" && git init -q && printf 'hello\n' >greeting.txt && git add -A &&
			git -c user.name=t -c user.email=t@example.com commit -qm base
		printf 'world\n' >greeting.txt && git diff >"$LP/solution1.patch"
		cp "$LP/solution1.patch" "$LP/golden.patch"
		printf 'bye\n' >greeting.txt && git diff >"$LP/solution2.patch"
		git checkout -q greeting.txt
		mkdir -p held && printf '#!/bin/sh\ngrep -qx "$1" greeting.txt\n' >held/check.sh &&
			git add -N held/check.sh && git diff >"$LP/held_out_test.patch"
	)
	rm -rf "$d"
	mkdir -p "$LP/path/to/your"
	cat >"$LP/path/to/your/rubrics.json" <<-'EOF'
		[{"rubricItemId": "crit-1", "criterion": "greets the world", "score": 2, "required": true,
		  "forms": {"f": {"criterion_test_command": "sh held/check.sh world && echo '#__PASS__#' || echo '#__FAIL__#'"}}}]
	EOF
	for f in TASK_DATA.md NEW_TASK_DATA.md; do
		cat >"$LP/$f" <<-'EOF'
			# Task

			### crit-01: greets the world
			**Score**: 2
			**Required**: true
			**Criterion**: greeting.txt says world.
			**Held-out tests**:
			```sh
			sh held/check.sh world && echo '#__PASS__#' || echo '#__FAIL__#'
			```

			### crit-02: keeps the file
			**Score**: 1
			**Required**: false
			**Criterion**: greeting.txt still exists.
			**Held-out tests**:
			```bash
			test -f greeting.txt && echo '#__PASS__#' || echo '#__FAIL__#'
			```
		EOF
	done
}

@test "seed: the rubrics_import, rubric_set and dynamic_rubric examples grade a pool's containers" {
	seed_app
	seed_grading_files
	new_task >/dev/null
	tag="task-sync-test/my-app:$TID"
	build=$(seed_create 1 "s|my-app:1.0|$tag|")
	cleanup_later image "$tag"
	pool=$(seed_create 7 "s|my-worker:1.0|$tag|" "s|\"id\": 7|\"id\": $build|")
	import=$(seed_create 4)
	set=$(seed_create 8)
	dyn=$(seed_create 5 "s|worker_pool_container_\\([12]\\)|task_${TID}_volume_solution\\1_$DB8|" \
		"s|\"id\": 126|\"id\": $pool|")
	run_ts 0 step run "$build"
	run_ts 0 step run "$pool"

	run_ts 0 step run "$import"
	out_has "success"
	run_ts 0 step run "$set"
	out_has "2 criteria from TASK_DATA.md: 2 created"
	run_ts 0 step run "$dyn"
	out_has "2 criteria"
	run_ts 0 task run "$TID"
	# every child grades solution1 and solution2 in the pool's containers
	for parent in "$set" "$dyn"; do
		read -ra kids <<<"$("$TS_BIN" step list --task "$TID" --json | python3 -c '
import json, sys
print(" ".join(str(s["id"]) for s in json.load(sys.stdin) if s["generated_by"] == int(sys.argv[1])))' "$parent")"
		[[ ${#kids[@]} -eq 2 ]] || fail "children of $parent: ${kids[*]}"
		[[ $(results "${kids[0]}" "['solution1.patch']['status']") == '"PASS"' ]] || fail "$(results "${kids[0]}" "")"
		[[ $(results "${kids[0]}" "['solution2.patch']['status']") == '"FAIL"' ]] || fail "$(results "${kids[0]}" "")"
		[[ $(results "${kids[1]}" "['solution1.patch']['status']") == '"PASS"' ]]
		[[ $(results "${kids[1]}" "['solution2.patch']['status']") == '"PASS"' ]]
	done
	run_ts 0 task report "$TID"
	out_has "✅ ❌"
}
