#!/usr/bin/env bats
# step tree [TASK_ID]

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

@test "step tree draws each task's steps under the steps they depend on" {
	make_task build >/dev/null
	make_task empty >/dev/null
	make_step 1 "Pull base" '{"docker_pull": {"image_tag": "debian:12"}}' >/dev/null            # 1
	make_step 1 "Build" '{"docker_build": {"depends_on": [{"id": 1}]}}' >/dev/null              # 2
	make_step 1 "Pool" '{"docker_pool": {"depends_on": [{"id": 2}]}}' >/dev/null                # 3
	make_step 1 "Check" '{"file_exists": "Dockerfile"}' >/dev/null                              # 4
	make_step 1 "Shell" '{"docker_shell": {"depends_on": [{"id": 2}]}}' >/dev/null              # 5
	make_step 1 "Rubric" '{"rubric_set": {"depends_on": [{"id": 3}]}}' >/dev/null               # 6
	run_ts 0 step tree
	out_is "1-build
├── 1-Pull base
│   ╰── 2-Build
│       ├── 3-Pool
│       │   ╰── 6-Rubric
│       ╰── 5-Shell
╰── 4-Check
2-empty"
	run_ts 0 step tree 2
	out_is "2-empty"
}

@test "step tree: a top-level depends_on wins over the nested one; ids may be numbers or strings" {
	make_task t >/dev/null
	make_step 1 a '{"file_exists": "a"}' >/dev/null
	make_step 1 b '{"file_exists": "b"}' >/dev/null
	make_step 1 c '{"docker_run": {"depends_on": [{"id": 1}]}, "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 d '{"docker_run": {"depends_on": [1]}}' >/dev/null
	make_step 1 e '{"docker_run": {"depends_on": ["2"]}}' >/dev/null
	run_ts 0 step tree 1
	out_is "1-t
├── 1-a
│   ╰── 4-d
╰── 2-b
    ├── 3-c
    ╰── 5-e"
}

@test "step tree: a step with two parents is drawn under each" {
	make_task t >/dev/null
	make_step 1 left '{"file_exists": "l"}' >/dev/null
	make_step 1 right '{"file_exists": "r"}' >/dev/null
	make_step 1 both '{"docker_run": {"depends_on": [{"id": 2}, {"id": 1}]}}' >/dev/null
	run_ts 0 step tree
	out_is "1-t
├── 1-left
│   ╰── 3-both
╰── 2-right
    ╰── 3-both"
}

@test "step tree puts 'Rubric <n>' roots first, by n, then the other roots by id" {
	make_task t >/dev/null
	make_step 1 "Setup" '{"file_exists": "a"}' >/dev/null
	make_step 1 "Rubric 10: late" '{"rubric_shell": {}}' >/dev/null
	make_step 1 "Rubric 2: early" '{"rubric_shell": {}}' >/dev/null
	make_step 1 "Other" '{"file_exists": "b"}' >/dev/null
	make_step 1 "Rubric 1" '{"rubric_shell": {}}' >/dev/null
	make_step 1 "Rubrics all" '{"rubric_set": {}}' >/dev/null
	run_ts 0 step tree 1
	out_is "1-t
├── 5-Rubric 1
├── 3-Rubric 2: early
├── 2-Rubric 10: late
├── 1-Setup
├── 4-Other
╰── 6-Rubrics all"
}

@test "step tree: a parent in another task" {
	make_task first >/dev/null
	make_task second >/dev/null
	make_step 1 base '{"docker_build": {}}' >/dev/null
	make_step 2 uses-base '{"docker_run": {"depends_on": [{"id": 1}]}}' >/dev/null
	make_step 2 own '{"file_exists": "x"}' >/dev/null
	# without a filter the step is drawn under its parent, in the parent's task
	run_ts 0 step tree
	out_is "1-first
╰── 1-base
    ╰── 2-uses-base
2-second
╰── 3-own"
	# with a filter it becomes a root of its own task
	run_ts 0 step tree 2
	out_is "2-second
├── 2-uses-base
╰── 3-own"
}

@test "step tree: dangling or malformed depends_on makes a root" {
	make_task t >/dev/null
	make_step_unchecked 1 orphan '{"docker_run": {"depends_on": [{"id": 99}]}}' >/dev/null
	make_step 1 odd '{"docker_run": {}}' >/dev/null
	make_step 1 odd2 '{"docker_run": {}}' >/dev/null
	make_step 1 empty '{"docker_run": {"depends_on": []}}' >/dev/null
	# step create refuses these; a database may hold them all the same
	db_sql "UPDATE steps SET settings = '{\"docker_run\": {\"depends_on\": \"soon\"}}' WHERE id = 2"
	db_sql "UPDATE steps SET settings = '{\"docker_run\": {\"depends_on\": [{\"name\": \"x\"}]}}' WHERE id = 3"
	run_ts 0 step tree
	out_is "1-t
├── 1-orphan
├── 2-odd
├── 3-odd2
╰── 4-empty"
}

@test "step tree still draws steps caught in a dependency cycle" {
	make_task t >/dev/null
	make_step 1 root '{"docker_build": {}}' >/dev/null
	make_step_unchecked 1 cyc-a '{"docker_run": {"depends_on": [{"id": 3}]}}' >/dev/null
	make_step 1 cyc-b '{"docker_run": {"depends_on": [{"id": 2}]}}' >/dev/null
	make_step_unchecked 1 self '{"docker_run": {"depends_on": [{"id": 4}]}}' >/dev/null
	make_step 1 below '{"docker_run": {"depends_on": [{"id": 3}]}}' >/dev/null
	run_ts 0 step tree
	out_is "1-t
├── 1-root
├── 2-cyc-a
│   ╰── 3-cyc-b
│       ├── 2-cyc-a
│       ╰── 5-below
╰── 4-self
    ╰── 4-self"
}

@test "step tree on an empty database prints nothing" {
	run_ts 0 step tree
	out_is ""
}

@test "step tree of an unknown task exits 4, of a bad one 2" {
	make_task t >/dev/null
	run_ts 4 step tree 5
	err_has "error: no task found with ID 5"
	[[ -z $output ]]
	run_ts 2 step tree x
	err_has "invalid task ID 'x'"
	run_ts 2 step tree 1 2
	err_has "unexpected argument '2'"
	run_ts 2 step tree --task 1
	err_has "unknown option '--task' for 'step tree'"
}
