#!/usr/bin/env bats
# task-sync config; task.conf, the environment and .env; database selection

load helpers

setup() {
	ts_setup
	# these tests choose the database themselves
	unset DATABASE_URL
}

# the seed's sample task.conf, verbatim
seed_conf() {
	cat >"$TASK_SYNC_CONFIG" <<'EOF'
# ~/.config/task/task.conf
PASS_MARKER=#__PASS__#
FAIL_MARKER=#__FAIL__#
TIMEOUT_MARKER=#__TIMEOUT__#
TIMEOUT_SECONDS=45

# Database (preferred over .env)
DB_HOST=your_database_host
DB_PORT=your_database_port
DB_USER=your_database_user
DB_PASSWORD=your_super_duper_password
DB_NAME=your_database_name
DB_SSL=false

# Alternatively, you can set a full DATABASE_URL:
# DATABASE_URL=postgres://user:pass@host:port/dbname?sslmode=disable
EOF
}

# database_is KIND LOCATION: the "database:" line of `task-sync config`
database_is() {
	run_ts 0 config
	out_has "
database: $1 $2
"
}

@test "config without a task.conf shows the defaults and the embedded database" {
	run_ts 0 config
	out_is "config file: $TASK_SYNC_CONFIG (not found)
PASS_MARKER        #__PASS__#                               # default
FAIL_MARKER        #__FAIL__#                               # default
TIMEOUT_MARKER     #__TIMEOUT__#                            # default
TIMEOUT_SECONDS    120                                      # default
DB_TIMEOUT_SECONDS 30                                       # default
database: sqlite $XDG_DATA_HOME/task-sync/task-sync.db
database chosen by: embedded default (no database configured)
database identity: none yet (made when a step first uses Docker)"
	# config never creates the database
	[[ ! -e $TS_SQLITE_DB ]]
}

@test "config --json parses and names every key" {
	run_ts 0 config --json
	assert_json
	assert_json_eq 'd["config_file"]' "\"$TASK_SYNC_CONFIG\""
	assert_json_eq 'd["config_file_exists"]' false
	assert_json_eq 'd["database"]' '"sqlite"'
	assert_json_eq 'd["database_location"]' "\"$TS_SQLITE_DB\""
	assert_json_eq 'sorted(d["settings"])' '["DATABASE_URL", "DB_HOST", "DB_NAME", "DB_PASSWORD", "DB_PORT", "DB_SSL", "DB_TIMEOUT_SECONDS", "DB_USER", "FAIL_MARKER", "PASS_MARKER", "TIMEOUT_MARKER", "TIMEOUT_SECONDS"]'
	assert_json_eq 'd["settings"]["TIMEOUT_SECONDS"]' '{"value": "120", "source": "default"}'
	assert_json_eq 'd["settings"]["DB_HOST"]' '{"value": null, "source": null}'
}

@test "the embedded database is made under XDG_DATA_HOME on first use, said once on stderr" {
	run_ts 0 task list
	err_has "note: no database configured: using the embedded SQLite database '$XDG_DATA_HOME/task-sync/task-sync.db'"
	[[ -f $XDG_DATA_HOME/task-sync/task-sync.db ]]
	run_ts 0 task list
	[[ -z $stderr ]] || { show_run; false; }
	# without XDG_DATA_HOME it is ~/.local/share
	unset XDG_DATA_HOME
	database_is sqlite "$HOME/.local/share/task-sync/task-sync.db"
}

@test "config shows the seed's sample task.conf, password masked" {
	seed_conf
	run_ts 0 config
	out_is "config file: $TASK_SYNC_CONFIG
PASS_MARKER        #__PASS__#                               # $TASK_SYNC_CONFIG:2
FAIL_MARKER        #__FAIL__#                               # $TASK_SYNC_CONFIG:3
TIMEOUT_MARKER     #__TIMEOUT__#                            # $TASK_SYNC_CONFIG:4
TIMEOUT_SECONDS    45                                       # $TASK_SYNC_CONFIG:5
DB_TIMEOUT_SECONDS 30                                       # default
DB_HOST            your_database_host                       # $TASK_SYNC_CONFIG:8
DB_PORT            your_database_port                       # $TASK_SYNC_CONFIG:9
DB_USER            your_database_user                       # $TASK_SYNC_CONFIG:10
DB_PASSWORD        ****                                     # $TASK_SYNC_CONFIG:11
DB_NAME            your_database_name                       # $TASK_SYNC_CONFIG:12
DB_SSL             false                                    # $TASK_SYNC_CONFIG:13
database: postgres postgres://your_database_user:****@your_database_host:your_database_port/your_database_name?sslmode=disable
database chosen by: DB_* keys in $TASK_SYNC_CONFIG
database identity: unknown (the database cannot be read)"
	out_lacks "your_super_duper_password"
	run_ts 0 config --json
	assert_json
	out_lacks "your_super_duper_password"
	assert_json_eq 'd["database_source"]' "\"DB_* keys in $TASK_SYNC_CONFIG\""
}

@test "DB_SSL accepts false, true (maps to require), or an explicit sslmode" {
	local ssl want
	# the seed: "DB_SSL accepts false, true (maps to require), or an explicit sslmode (e.g., disable, require)"
	for ssl in false:disable 0:disable :disable true:require 1:require \
		disable:disable allow:allow prefer:prefer require:require verify-ca:verify-ca verify-full:verify-full; do
		want=${ssl#*:}
		write_conf DB_HOST=db.example DB_PORT=5432 DB_USER=u DB_NAME=tasks "DB_SSL=${ssl%%:*}"
		database_is postgres "postgres://u@db.example:5432/tasks?sslmode=$want"
	done
	# no DB_SSL at all
	write_conf DB_HOST=db.example DB_USER=u DB_NAME=tasks
	database_is postgres "postgres://u@db.example/tasks?sslmode=disable"
}

@test "DB_SSL=True, FALSE, \"false\": booleans in any case, quotes stripped" {
	local ssl want
	# the issue: "DB_SSL=True, FALSE, \"false\" pass through as sslmode=True, %22false%22"
	for ssl in True:require FALSE:disable '"false":disable' "'TRUE':require" yes:require No:disable \
		ON:require off:disable Verify-Full:verify-full '"require":require'; do
		want=${ssl##*:}
		write_conf DB_HOST=db.example DB_USER=u DB_NAME=tasks "DB_SSL=${ssl%:*}"
		database_is postgres "postgres://u@db.example/tasks?sslmode=$want"
		out_lacks "%22"
		out_lacks "%27"
	done
	# from the environment and .env too
	rm "$TASK_SYNC_CONFIG"
	DB_HOST=h DB_SSL='"False"' run_ts 0 config
	out_has "database: postgres postgres://h/?sslmode=disable"
	printf '%s\n' 'export DB_HOST=h' 'DB_SSL="TRUE"' >.env
	database_is postgres "postgres://h/?sslmode=require"
}

@test "an unknown DB_SSL is refused by config and every command with exit 3, naming where it was set" {
	local msg="invalid DB_SSL 'maybe': expected true/false or an sslmode (disable, allow, prefer, require, verify-ca, verify-full)"
	run_ts 0 task create --name keep
	before=$(db_snapshot)
	write_conf DB_HOST=db.example DB_USER=u DB_NAME=tasks DB_SSL=maybe
	run_ts 3 config
	err_is "error: $TASK_SYNC_CONFIG:4: $msg"
	[[ -z $output ]]
	run_ts 3 task list
	err_is "error: $TASK_SYNC_CONFIG:4: $msg"
	run_ts 3 step create --task 1 --title t --settings '{"file_exists": "a"}'
	err_is "error: $TASK_SYNC_CONFIG:4: $msg"
	# in the environment, even while task.conf's DATABASE_URL picks the database
	write_conf "DATABASE_URL=sqlite:$TS_SQLITE_DB"
	DB_SSL=maybe run_ts 3 task list
	err_is "error: environment DB_SSL: $msg"
	# in .env
	rm "$TASK_SYNC_CONFIG"
	printf '%s\n' '# db' 'DB_SSL=maybe' >.env
	run_ts 3 config
	err_is "error: .env:2: $msg"
	run_ts 3 task list --json
	err_is "error: .env:2: $msg"
	# --help still works, it reads no configuration
	run_ts 0 task list --help
	rm .env
	assert_db_unchanged "$before"
	# a mode libpq does not know, or a near miss
	for bad in verify disabled truee "'false" sslmode=require; do
		write_conf DB_HOST=h "DB_SSL=$bad"
		run_ts 3 config
		err_is "error: $TASK_SYNC_CONFIG:2: invalid DB_SSL '$bad': expected true/false or an sslmode (disable, allow, prefer, require, verify-ca, verify-full)"
	done
}

@test "a password with @ / : ? is encoded in the URL and never shown" {
	write_conf DB_HOST=db.example DB_PORT=5432 DB_USER=us@r 'DB_PASSWORD=p@s/s:w?d' DB_NAME=my/db DB_SSL=true
	database_is postgres "postgres://us%40r:****@db.example:5432/my%2Fdb?sslmode=require"
	out_lacks "p@s"
	out_lacks "p%40s"
	run_ts 0 config --json
	out_lacks "p@s"
	out_lacks "p%40s"
	assert_json_eq 'd["settings"]["DB_PASSWORD"]["value"]' '"****"'
}

@test "a DATABASE_URL with a password is masked" {
	write_conf 'DATABASE_URL=postgres://admin:s3cret@db.example:6543/tasks?sslmode=require'
	database_is postgres "postgres://admin:****@db.example:6543/tasks?sslmode=require"
	out_lacks "s3cret"
	out_has "database chosen by: DATABASE_URL ($TASK_SYNC_CONFIG:1)"
	run_ts 0 config --json
	out_lacks "s3cret"
}

@test "a live PostgreSQL connection from DB_* keys with a password full of @ / : ?" {
	pg_only
	local parts host port user name
	parts=$(python3 -c '
import sys, urllib.parse as u
p = u.urlparse(sys.argv[1])
print(p.hostname, p.port or 5432, p.username or "postgres", p.path.lstrip("/"))' "$TASK_SYNC_PG_URL")
	read -r host port user name <<<"$parts"
	write_conf "DB_HOST=$host" "DB_PORT=$port" "DB_USER=$user" 'DB_PASSWORD=p@s/s:w?d' "DB_NAME=$name" DB_SSL=false
	run_ts 0 task create --name via-conf
	run_ts 0 task list --json
	assert_json_eq '[t["name"] for t in d]' '["via-conf"]'
	# the same through the environment
	rm "$TASK_SYNC_CONFIG"
	DB_HOST=$host DB_PORT=$port DB_USER=$user DB_PASSWORD='p@s/s:w?d' DB_NAME=$name DB_SSL=false \
		run --separate-stderr "$TS_BIN" task list --json
	check_status 0
	assert_json_eq '[t["name"] for t in d]' '["via-conf"]'
	[[ ! -e $TS_SQLITE_DB ]]
}

# ---- precedence --------------------------------------------------------------

@test "DATABASE_URL in task.conf beats DATABASE_URL in the environment" {
	write_conf "DATABASE_URL=sqlite:$HOME/file.db"
	export DATABASE_URL="sqlite:$HOME/env.db"
	database_is sqlite "$HOME/file.db"
	out_has "database chosen by: DATABASE_URL ($TASK_SYNC_CONFIG:1)"
	run_ts 0 task create --name x
	[[ -f $HOME/file.db && ! -e $HOME/env.db && ! -e $TS_SQLITE_DB ]]
}

@test "DATABASE_URL in task.conf beats DB_* keys in task.conf" {
	write_conf DB_HOST=db.example DB_USER=u DB_NAME=n "DATABASE_URL=sqlite:$HOME/file.db"
	database_is sqlite "$HOME/file.db"
}

@test "DB_* keys in task.conf beat the environment" {
	write_conf DB_HOST=file.example DB_USER=fileuser DB_NAME=filedb
	export DATABASE_URL="sqlite:$HOME/env.db" DB_HOST=env.example DB_USER=envuser DB_NAME=envdb DB_PASSWORD=envpw
	database_is postgres "postgres://fileuser@file.example/filedb?sslmode=disable"
	out_has "database chosen by: DB_* keys in $TASK_SYNC_CONFIG"
	# task.conf and the environment are never mixed: the env password is not used
	out_lacks "****"
}

@test "a task.conf with only DB_PASSWORD does not count; the environment is used" {
	write_conf DB_PASSWORD=filepw
	export DB_HOST=env.example DB_USER=envuser DB_NAME=envdb
	database_is postgres "postgres://envuser@env.example/envdb?sslmode=disable"
	out_has "database chosen by: DB_* environment variables"
}

@test "the environment: DATABASE_URL, else DB_* variables" {
	export DATABASE_URL="sqlite:$HOME/env.db"
	database_is sqlite "$HOME/env.db"
	out_has "database chosen by: DATABASE_URL (environment DATABASE_URL)"
	unset DATABASE_URL
	export DB_HOST=h DB_PORT=1234 DB_USER=u DB_PASSWORD=pw DB_NAME=n DB_SSL=verify-full
	database_is postgres "postgres://u:****@h:1234/n?sslmode=verify-full"
	out_has "DB_HOST            h                                        # environment DB_HOST"
}

@test ".env in the working directory is used when nothing else is configured" {
	printf 'DATABASE_URL=sqlite:%s/dotenv.db\n' "$HOME" >.env
	database_is sqlite "$HOME/dotenv.db"
	out_has "database chosen by: DATABASE_URL (.env:1)"
	run_ts 0 task create --name x
	[[ -f $HOME/dotenv.db && ! -e $TS_SQLITE_DB ]]
	# only the working directory's .env counts
	mkdir elsewhere
	cd elsewhere
	database_is sqlite "$TS_SQLITE_DB"
}

@test "the environment beats .env, and .env fills in what the environment lacks" {
	printf '%s\n' "DATABASE_URL=sqlite:$HOME/dotenv.db" "PASS_MARKER=@dotenv@" "FAIL_MARKER=@dotenv-fail@" >.env
	export DATABASE_URL="sqlite:$HOME/env.db" PASS_MARKER=@env@
	run_ts 0 config
	out_has "database: sqlite $HOME/env.db"
	out_has "PASS_MARKER        @env@                                    # environment PASS_MARKER"
	out_has "FAIL_MARKER        @dotenv-fail@                            # .env:3"
}

@test ".env DB_* keys are used like environment variables" {
	printf '%s\n' DB_HOST=dotenv.example DB_USER=u DB_NAME=n >.env
	database_is postgres "postgres://u@dotenv.example/n?sslmode=disable"
	# a task.conf database setting beats it
	write_conf "DATABASE_URL=sqlite:$HOME/file.db"
	database_is sqlite "$HOME/file.db"
}

@test "markers and timeout: task.conf beats the environment, which beats the default" {
	write_conf PASS_MARKER=@file@ TIMEOUT_SECONDS=30
	export PASS_MARKER=@env@ FAIL_MARKER=@envfail@ TIMEOUT_SECONDS=40
	run_ts 0 config --json
	assert_json_eq 'd["settings"]["PASS_MARKER"]' "{\"value\": \"@file@\", \"source\": \"$TASK_SYNC_CONFIG:1\"}"
	assert_json_eq 'd["settings"]["FAIL_MARKER"]' '{"value": "@envfail@", "source": "environment FAIL_MARKER"}'
	assert_json_eq 'd["settings"]["TIMEOUT_SECONDS"]["value"]' '"30"'
	assert_json_eq 'd["settings"]["TIMEOUT_MARKER"]' '{"value": "#__TIMEOUT__#", "source": "default"}'
}

@test "task.conf syntax: comments, blanks, spaces around =, later keys win, no quote stripping" {
	write_conf '# a comment' '' '   PASS_MARKER =  @one@  ' 'PASS_MARKER=@two@' 'DB_NAME="quoted"' \
		'DB_HOST=h' 'UNKNOWN_KEY=ignored' '  # indented comment' 'FAIL_MARKER=a=b'
	run_ts 0 config --json
	assert_json_eq 'd["settings"]["PASS_MARKER"]' "{\"value\": \"@two@\", \"source\": \"$TASK_SYNC_CONFIG:4\"}"
	assert_json_eq 'd["settings"]["DB_NAME"]["value"]' '"\"quoted\""'
	assert_json_eq 'd["settings"]["FAIL_MARKER"]["value"]' '"a=b"'
	assert_json_eq 'd["database_location"]' '"postgres://h/%22quoted%22?sslmode=disable"'
	out_lacks "UNKNOWN_KEY"
}

@test "without TASK_SYNC_CONFIG the file is ~/.config/task/task.conf" {
	unset TASK_SYNC_CONFIG
	mkdir -p "$HOME/.config/task"
	printf 'DATABASE_URL=sqlite:%s/home.db\n' "$HOME" >"$HOME/.config/task/task.conf"
	run_ts 0 config
	out_has "config file: $HOME/.config/task/task.conf"
	out_has "database: sqlite $HOME/home.db"
}

@test "a sqlite:PATH or sqlite://PATH URL names an SQLite file" {
	export DATABASE_URL="sqlite://$HOME/two-slashes.db"
	database_is sqlite "$HOME/two-slashes.db"
	export DATABASE_URL="sqlite:relative.db"
	run_ts 0 task create --name x
	[[ -f relative.db ]]
}

# ---- errors ------------------------------------------------------------------

@test "a garbage line in task.conf exits 3 naming file:line, before touching the database" {
	run_ts 0 task create --name keep
	before=$(db_snapshot)
	write_conf PASS_MARKER=ok 'this is not a setting' FAIL_MARKER=x
	run_ts 3 task list
	err_has "error: $TASK_SYNC_CONFIG:2: expected KEY=VALUE"
	[[ -z $output ]]
	run_ts 3 config
	err_has "$TASK_SYNC_CONFIG:2: expected KEY=VALUE"
	run_ts 3 task create --name more
	write_conf 'BAD KEY=1'
	run_ts 3 task list
	err_has "$TASK_SYNC_CONFIG:1: expected KEY=VALUE"
	write_conf '=value'
	run_ts 3 task list
	rm "$TASK_SYNC_CONFIG"
	assert_db_unchanged "$before"
}

@test "TIMEOUT_SECONDS must be a whole number of seconds" {
	run_ts 0 task create --name keep
	before=$(db_snapshot)
	write_conf TIMEOUT_SECONDS=abc
	run_ts 3 task create --name more
	err_has "error: $TASK_SYNC_CONFIG:1: invalid TIMEOUT_SECONDS 'abc': expected a whole number of seconds between 1 and 604800"
	run_ts 3 config
	write_conf TIMEOUT_SECONDS=0
	run_ts 3 task list
	# no inline comments: the whole rest of the line is the value
	write_conf 'TIMEOUT_SECONDS=45 # seconds'
	run_ts 3 task list
	err_has "invalid TIMEOUT_SECONDS '45 # seconds'"
	rm "$TASK_SYNC_CONFIG"
	TIMEOUT_SECONDS=abc run --separate-stderr "$TS_BIN" task list
	check_status 3
	err_has "environment TIMEOUT_SECONDS: invalid TIMEOUT_SECONDS 'abc'"
	TIMEOUT_SECONDS=604800 run --separate-stderr "$TS_BIN" task list
	check_status 0
	assert_db_unchanged "$before"
}

@test "an unreadable task.conf exits 3; a missing one is fine" {
	mkdir -p "$HOME/conf-dir"
	export TASK_SYNC_CONFIG="$HOME/conf-dir"
	run_ts 3 task list
	err_has "error: cannot read config file '$HOME/conf-dir'"
	export TASK_SYNC_CONFIG="$HOME/nowhere/task.conf"
	run_ts 0 config
	out_has "config file: $HOME/nowhere/task.conf (not found)"
}

@test ".env: export, quotes, comments and blanks around '=' are read as dotenv files write them" {
	# the issue: "today such a line (first line export DB_HOST=...) makes the whole file ignored"
	cat >.env <<'EOF'
export DB_HOST=127.0.0.1
export DB_PORT = 1
# the user
DB_USER = "me"   # quoted, with a comment

export DB_NAME='my db'
DB_PASSWORD="p\"w\\d # not a comment"
PASS_MARKER=#__OK__#
FAIL_MARKER=@fail@ # a comment after a blank
TIMEOUT_MARKER="two\nlines"
EOF
	run_ts 0 config
	[[ $stderr != *warning* ]] || { show_run; fail "warnings for a good .env"; }
	out_has "database: postgres postgres://me:****@127.0.0.1:1/my%20db?sslmode=disable"
	out_has "DB_HOST            127.0.0.1                                # .env:1"
	out_has "DB_PORT            1                                        # .env:2"
	out_has "DB_USER            me                                       # .env:4"
	out_has "PASS_MARKER        #__OK__#                                 # .env:8"
	out_has "FAIL_MARKER        @fail@                                   # .env:9"
	run_ts 0 config --json
	assert_json_eq 'd["settings"]["DB_NAME"]["value"]' '"my db"'
	assert_json_eq 'd["settings"]["TIMEOUT_MARKER"]["value"]' '"two\nlines"'
}

@test "a .env line that cannot be read warns with file and line, and the rest is still read" {
	# the issue: "a bad line silently drops everything after it"
	printf '%s\n' 'PASS_MARKER=@dotenv@' 'not a line' "DB_HOST='unterminated" 'export' 'FAIL_MARKER="x"y' \
		"DATABASE_URL=sqlite:$HOME/after.db" >.env
	run_ts 0 config
	err_is "warning: .env:2: expected KEY=VALUE (the line is skipped)
warning: .env:3: an unterminated ' quote (a quoted value ends on its line) (the line is skipped)
warning: .env:4: expected KEY=VALUE (the line is skipped)
warning: .env:5: text after the closing quote (the line is skipped)"
	out_has "PASS_MARKER        @dotenv@"
	out_has "database: sqlite $HOME/after.db"
	out_has "database chosen by: DATABASE_URL (.env:6)"
	# every command reads it, and goes on
	run_ts 0 task list
	err_has "warning: .env:2: expected KEY=VALUE (the line is skipped)"
	[[ -f $HOME/after.db ]]
}

@test "task.conf accepts export KEY=VALUE too, and still takes its values literally" {
	write_conf 'export DB_HOST=db.example' "export	DB_NAME=tasks" 'export PASS_MARKER="@q@"'
	run_ts 0 config
	out_has "DB_HOST            db.example                               # $TASK_SYNC_CONFIG:1"
	out_has "database: postgres postgres://db.example/tasks?sslmode=disable"
	out_has 'PASS_MARKER        "@q@"'
	write_conf 'export' 'DB_HOST=h'
	run_ts 3 config
	err_is "error: $TASK_SYNC_CONFIG:1: expected KEY=VALUE"
}

@test "an unsupported or empty DATABASE_URL exits 3" {
	export DATABASE_URL=mysql://u@h/db
	run_ts 3 task list
	err_has "error: unsupported DATABASE_URL 'mysql://u@h/db': expected postgres://... or sqlite:PATH"
	run_ts 3 config
	export DATABASE_URL=sqlite:
	run_ts 3 task list
	err_has "DATABASE_URL 'sqlite:' names no file"
	[[ ! -e $TS_SQLITE_DB ]]
}

@test "config takes only --json" {
	run_ts 0 config -h
	out_has "usage: task-sync config [--json]"
	run_ts 0 config --help
	run_ts 2 config --verbose
	err_has "unknown option '--verbose' for 'config'"
	err_has "hint: see 'task-sync config --help'"
	run_ts 2 config show
	err_has "unexpected argument 'show'"
}

@test "config shows the database identity: none until a step first uses Docker, then the same one every time" {
	local fake="$BATS_TEST_TMPDIR/no-docker" id
	run_ts 0 task list
	run_ts 0 config
	out_has "database identity: none yet (made when a step first uses Docker)"
	run_ts 0 config --json
	assert_json_eq 'd["database_identity"]' null
	# a plain command makes none
	make_task t >/dev/null
	run_ts 0 config
	out_has "database identity: none yet"
	# a step that touches Docker does, even when Docker then fails
	printf '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n' >"$fake"
	chmod +x "$fake"
	make_step 1 shell '{"docker_shell": {"container_name": "c", "command": ["true"]}}' >/dev/null
	TASK_SYNC_DOCKER=$fake run_ts 1 step run 1
	run_ts 0 config --json
	id=$(json_get 'd["database_identity"]' | tr -d '"')
	[[ $id =~ ^[0-9a-f]{32}$ ]] || fail "identity '$id'"
	run_ts 0 config
	out_has "
database identity: $id"
	TASK_SYNC_DOCKER=$fake run_ts 1 step run 1
	run_ts 0 config
	out_has "database identity: $id"
	[[ $(sqlite3 "$TS_SQLITE_DB" "SELECT count(*) FROM database_identity") == 1 ]]
}

@test "a UTF-8 byte order mark at the start of task.conf is skipped" {
	printf '\xef\xbb\xbfPASS_MARKER=@bom@\nFAIL_MARKER=@nobom@\n' >"$TASK_SYNC_CONFIG"
	run_ts 0 config
	out_has "PASS_MARKER        @bom@"
	out_has "FAIL_MARKER        @nobom@"
}

@test "a NUL byte in task.conf exits 3 naming file:line" {
	run_ts 0 task create --name keep
	before=$(db_snapshot)
	printf 'TIMEOUT_SECONDS=30\n# fine\nPASS_MARKER=ok\0FAIL_MARKER=x\n' >"$TASK_SYNC_CONFIG"
	run_ts 3 task list
	err_is "error: $TASK_SYNC_CONFIG:3: a NUL byte"
	[[ -z $output ]]
	rm "$TASK_SYNC_CONFIG"
	assert_db_unchanged "$before"
}

@test "an empty marker or two equal markers exit 3 naming file:line" {
	write_conf TIMEOUT_SECONDS=30 PASS_MARKER=
	run_ts 3 task list
	err_is "error: $TASK_SYNC_CONFIG:2: PASS_MARKER is empty"
	write_conf 'PASS_MARKER=@same@' '# c' 'FAIL_MARKER=@same@'
	run_ts 3 task list
	err_is "error: $TASK_SYNC_CONFIG:3: PASS_MARKER equals FAIL_MARKER"
	run_ts 3 config
	# equal to another marker's default
	write_conf 'TIMEOUT_MARKER=#__FAIL__#'
	run_ts 3 task list
	err_is "error: $TASK_SYNC_CONFIG:1: FAIL_MARKER equals TIMEOUT_MARKER"
	# from the environment
	rm "$TASK_SYNC_CONFIG"
	export FAIL_MARKER='#__PASS__#'
	run_ts 3 task list
	err_is "error: environment FAIL_MARKER: PASS_MARKER equals FAIL_MARKER"
	unset FAIL_MARKER
	write_conf 'PASS_MARKER=@a@' 'FAIL_MARKER=@b@' 'TIMEOUT_MARKER=@c@'
	run_ts 0 task list
}
