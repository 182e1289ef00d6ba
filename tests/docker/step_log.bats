#!/usr/bin/env bats
# Issue 10 with a real grading run: `step runs` names each row's candidate and
# container, `step log --candidate NAME` prints that candidate's newest output,
# and the harness's trailer lines read as phase lines ("reset ok, patch
# applied, exit 0 after 71 ms, nothing left running"); --raw keeps them.
# The demo task (solution1 right, solution4 does not apply); see grading.bats.

load docker_helpers
load grid_helpers

setup_file() {
	build_demo_image
}

@test "a graded rubric step: step runs names candidate and container, step log --candidate shows phase lines" {
	demo_task
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children "$RS")"
	s=${kids[0]}
	run_ts 0 step run "$s" --golden

	run_ts 0 step runs "$s"
	[[ ${lines[0]} =~ ^RUN\ +STARTED\ +CANDIDATE\ +STATUS\ +EXIT\ +DURATION\ +CONTAINER$ ]] || { show_run; false; }
	local c1 c4
	c1=$(results "$s" '["solution1.patch"]["container"]' | tr -d '"')
	c4=$(results "$s" '["solution4.patch"]["container"]' | tr -d '"')
	[[ -n $c1 && $c1 != null ]] || fail "no container in the results"
	[[ $output =~ $'\n'[0-9]+\ +$TS_RE\ +solution1\.patch\ +PASS\ +0\ +[0-9]+\ ms\ +$c1($'\n'|$) ]] || { show_run; false; }
	[[ $output =~ $'\n'[0-9]+\ +$TS_RE\ +solution4\.patch\ +ERROR\ +-\ +[0-9]+\ ms\ +$c4($'\n'|$) ]] || { show_run; false; }
	[[ $output == *" golden "* && $output == *" original "* ]] || { show_run; false; }

	run_ts 0 step log "$s" --candidate solution1
	out_lacks "#__TS_"
	[[ ${lines[0]} == "-- reset ok" && ${lines[1]} == "-- patch applied" ]] || { show_run; false; }
	[[ ${lines[-2]} =~ ^--\ exit\ 0\ after\ [0-9]+\ ms$ && ${lines[-1]} == "-- nothing left running" ]] || { show_run; false; }
	out_has "#__PASS__#"

	run_ts 0 step log "$s" --candidate solution4.patch
	out_lacks "#__TS_"
	[[ ${lines[0]} == "-- reset ok" ]] || { show_run; false; }
	[[ ${lines[-1]} == "-- error: patch "*"does not apply" ]] || { show_run; false; }

	run_ts 0 step log "$s" --candidate solution1 --raw
	out_has "__# reset-ok"
	out_has "__# swept 0"

	run_ts 0 step info "$s"
	out_lacks "#__TS_"
	out_has '-- reset ok\n-- patch applied\n'
}
