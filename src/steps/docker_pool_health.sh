# shellcheck shell=sh
# The health check of a docker_pool container: is it fit for grading?
# Embedded in task-sync at build time (src/steps/docker_pool.c runs it as
# `docker exec ID sh -c SCRIPT sh APP`); $1 is the app folder.
#
# A container with no git repository there is not a grading container
# (a plain worker pool, like the seed's): it gets no grading check, and
# says so by printing the marker below (docker_pool.c's NO_REPO) and
# exiting 0. Otherwise the tools the grading harness needs must be
# there (exit 4), no .git/index.lock (exit 3) and `git status` must work
# (exit 5); then the last line printed is HEAD's commit ID, the
# container's base commit (none when the repository has no commit).
cd -- "$1" 2>/dev/null || {
	echo '#task-sync-no-repository#'
	exit 0
}
if [ ! -e .git ] && ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo '#task-sync-no-repository#'
	exit 0
fi
for t in bash timeout base64 mktemp git; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "missing tool: $t (grading needs bash, timeout, base64, mktemp and git)"
		exit 4
	}
done
if [ -e .git/index.lock ]; then
	echo '.git/index.lock exists'
	exit 3
fi
LC_ALL=C git status --porcelain >/dev/null || exit 5
LC_ALL=C git rev-parse -q --verify HEAD || true
