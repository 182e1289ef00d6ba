# shellcheck shell=bash
# The grading harness: one item (a criterion's command against one
# candidate) in its container, fed to `docker exec -i C bash -s`.
# Embedded in task-sync at build time (src/core/grade.c). grade_script()
# puts before it:
#   N      the item's nonce (32 hex digits): trailer lines carry it
#   APP    the repository folder in the container
#   BASE   the commit to reset to (hex), or empty for HEAD
#   TMO    the limit in seconds; GRACE, seconds from SIGTERM to SIGKILL
#   PL     the patches' labels, in order; they are files p0.patch ...
#   __ts_files  writes the command ($W/cmd) and the patches into $W
# The trailers, in order: reset-ok, apply-ok, exit RC MS, swept N; or
# one `error WHY` before apply-ok (grade_feed in grade.c reads them).
# Git runs with LC_ALL=C (its messages are parsed by people and tests),
# no hooks and no fsmonitor; the command keeps the container's
# environment.

t() { printf '\n#__TS_%s__# %s\n' "$N" "$*"; }
# the item's last trailer: the watcher goes first
te() { unwatch; t error "$@"; }
g() { LC_ALL=C git -c core.hooksPath=/dev/null -c core.fsmonitor=false "$@"; }
# microseconds in T; bash < 5 has no EPOCHREALTIME
now() {
	T=${EPOCHREALTIME//[!0-9]/}
	[ -n "$T" ] && return
	T=$(date +%s%N 2>/dev/null)
	case $T in ''|*[!0-9]*) T=$(( $(date +%s) * 1000000000 ));; esac
	T=$((T / 1000))
}

# pst DIR: one /proc/PID/stat into ST (state), PPI (parent) and START;
# the name may hold spaces, newlines and ')', so the fields are those
# after the LAST ')'
pst() {
	S=
	IFS= read -r -d '' S 2>/dev/null <"$1/stat"
	[ -n "$S" ] || return 1
	S=${S##*\)}
	set -f
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $S
	set +f
	ST=$1 PPI=$2 START=${20}
}

# the processes there before the command: they are left alone
snap() {
	SNAP=' '
	for d in /proc/[0-9]*; do
		pst "$d" || continue
		SNAP="$SNAP${d#/proc/}:$START "
	done
}

# One look at /proc: K, the processes the item started, n of them, R of
# them not stopped; V, those the look may have missed a child of: listed
# but gone before they could be read (one that forked and exited), or
# dead (a zombie) and not yet dead at the previous look (it may have
# forked after the list was taken: only the next look is sure to see its
# child). The item's: every live process not in SNAP but this shell and
# ME, and but those of another `docker exec` session (their line of
# parents ends in a process whose parent is outside the container, 0,
# other than init and this shell): another item waiting for the lock,
# someone's shell. Nothing the command starts can get such a parent; a
# parent not seen counts as init, so as the item's.
scan() {
	n=0 R=0 V=0 K='' L='' ZP=$ZN ZN=' '
	PP=()
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		pst "$d" || {
			case $SNAP in *" $p:"*) ;; *) V=$((V + 1));; esac
			continue
		}
		PP[p]=$PPI
		[ "$p" = "$$" ] || [ "$p" = "$ME" ] && continue
		case $SNAP in *" $p:$START "*) continue;; esac
		case $ST in
		Z|X)
			ZN="$ZN$p:$START "
			case $ZP in *" $p:$START "*) ;; *) V=$((V + 1));; esac
			continue;;
		esac
		L="$L $p:$ST"
	done
	for e in $L; do
		p=${e%%:*} q=${e%%:*} k=0
		while [ "$q" -gt 1 ] && [ "$q" != "$$" ] &&
			[ "${PP[q]:-1}" != 0 ] && [ $k -lt 64 ]; do
			q=${PP[q]:-1} k=$((k + 1))
		done
		[ "$q" -gt 1 ] && [ "$q" != "$$" ] && [ "${PP[q]:-1}" = 0 ] &&
			continue
		n=$((n + 1)) K="$K $p"
		case ${e#*:} in T|t) ;; *) R=$((R + 1));; esac
	done
}

# End everything the item started, however it forks: stop them all (a
# stopped process cannot fork) until a look finds none running and none
# missed, then kill them; again until a look finds none. n: how many are
# left. Bounded (another session's processes that come and go count as
# missed).
sweep() {
	local i=0 j
	while scan; ((n > 0 || V > 0)); do
		j=0
		while ((R > 0 || V > 0)); do
			# shellcheck disable=SC2086 # K is a list of PIDs
			[ -z "$K" ] || kill -STOP $K 2>/dev/null
			j=$((j + 1))
			((j >= 50)) && break
			scan
		done
		# shellcheck disable=SC2086 # K is a list of PIDs
		[ -z "$K" ] || kill -KILL $K 2>/dev/null
		i=$((i + 1))
		((i >= 20)) && { scan; break; }
		((i >= 5)) && sleep 0.1
	done
}

# The lock files a git killed mid-write leaves (an item killed with
# task-sync, say): the index's, HEAD's and the other top-level ones,
# packed-refs', and the refs' and reflogs' own. The container's lock
# says no other item's git runs here, so each one is stale, and any one
# left would fail the reset (`cannot lock ref 'HEAD'`).
unlock() {
	local f
	shopt -s globstar nullglob
	for f in .git/*.lock .git/refs/**/*.lock .git/logs/**/*.lock; do
		rm -f -- "$f"
	done
	shopt -u globstar nullglob
}

# The client's end: the host keeps the exec's stdin open until the
# item's last trailer, so EOF here means it went away (task-sync was
# killed): end the item at once, not at its limit, sweep, remove the lock
# files a git it killed left (when the item held the container's lock:
# else another item's git may hold them) and the work folder; it shares
# the lock's open file, so the next item starts only after that. Stopped
# (unwatch) before the last trailer, so the host closing stdin then
# cannot fire it.
watch() {
	(
		ME=$BASHPID
		snap
		while read -r _; do :; done
		kill -KILL $$
		sweep
		if { ! command -v flock || flock -n 9; } && cd -- "$APP"; then
			unlock
		fi
		rm -rf -- "$W"
	) <&0 >/dev/null 2>&1 &
	WP=$!
}
unwatch() {
	[ -z "$WP" ] || { kill -KILL "$WP"; wait "$WP"; } >/dev/null 2>&1
	WP=
}

__ts_item() {
	local i out
	# one item at a time in a container, whoever starts it
	if command -v flock >/dev/null 2>&1; then
		flock -w 10 9 || {
			te "setup: another grading item holds the container (/tmp/.task-sync-grading.lock)"
			return
		}
	fi
	cd -- "$APP" 2>/dev/null || { te "setup: no folder" "$APP"; return; }
	__ts_files || return
	unlock
	if [ -n "$BASE" ]; then
		out=$(g checkout -qf --detach "$BASE" 2>&1 &&
			g reset -q --hard 2>&1 && g clean -qffd 2>&1) || {
			printf '%s\n' "$out"
			te "reset: git checkout of the base commit ${BASE:0:12} failed"
			return
		}
	else
		out=$(g reset -q --hard HEAD 2>&1 && g clean -qffd 2>&1) || {
			printf '%s\n' "$out"
			te "reset: git reset failed"
			return
		}
	fi
	out=$(g status --porcelain 2>&1) || {
		printf '%s\n' "$out"
		te "reset: git status failed"
		return
	}
	[ -z "$out" ] || {
		printf '%s\n' "$out"
		te "reset: the repository is not clean after git reset and git clean"
		return
	}
	# no history after the base (a known leak: the fix's commit in the
	# image): refs to commits HEAD does not contain go, and the reflogs
	# and the ORIG_HEAD/FETCH_HEAD that remember others
	g for-each-ref --no-merged HEAD --format='delete %(refname)' |
		g update-ref --stdin >/dev/null 2>&1
	g reflog expire --expire=now --all >/dev/null 2>&1
	rm -f .git/ORIG_HEAD .git/FETCH_HEAD
	t reset-ok
	for i in "${!PL[@]}"; do
		# an empty file is no patch to apply
		[ -s "$W/p$i.patch" ] || continue
		out=$(g apply --whitespace=nowarn "$W/p$i.patch" 2>&1) || {
			printf '%s\n' "$out"
			te patch "${PL[i]} does not apply"
			return
		}
	done
	snap
	t apply-ok
	now
	start=$T
	timeout -k "$GRACE" "$TMO" bash "$W/cmd" </dev/null 9>&- 2>&1
	rc=$?
	now
	t exit "$rc" "$(((T - start) / 1000))"
	sweep
	unwatch
	t swept "$n"
}

__ts_main() {
	local W='' WP='' ME=$$ p q k d e n R V K L start rc
	local T S ST PPI START SNAP PP ZP ZN
	W=$(mktemp -d /tmp/task-sync.XXXXXX) || {
		W=
		te "setup: cannot create a work folder"
		return
	}
	# the lock's file, open before the watcher starts: they share it,
	# so the lock (taken in __ts_item) is held until the watcher has
	# ended, and its sweep
	{ exec 9>>/tmp/.task-sync-grading.lock; } 2>/dev/null
	watch
	__ts_item
	unwatch
	rm -rf -- "$W"
}
# The last line is read whole before it runs, so what follows the
# script on stdin (nothing, until the host closes it) is the watcher's.
__ts_main; exit 0
