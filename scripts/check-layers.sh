#!/bin/sh
# Build step (meson): refuse an include that goes up the layers.
# usage: scripts/check-layers.sh STAMP FILE...
# Layers, lowest first (docs/architecture.md): os core store steps engine
# worker, then serve and cmd side by side at the top rank (cmd/serve.c calls into
# serve/, which may not include cmd/: exit codes and options are cmd's).
# A file in src/LAYER/ may include "L/x.h" only for L at or below LAYER;
# src/main.c is the top. Prints each offending line as FILE:LINE: error: ...
# and exits 1; else touches STAMP.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 STAMP FILE..." >&2; exit 2; }
stamp=$1
shift
awk '
BEGIN {
	n = split("os core store steps engine worker cmd", L, " ")
	for (i = 1; i <= n; i++) rank[L[i]] = i
	rank["serve"] = rank["cmd"]
	bad = 0
}
FNR == 1 {
	f = FILENAME
	sub(/^.*src\//, "", f)
	split(f, part, "/")
	me = (part[1] in rank) ? part[1] : "cmd"
}
/^[ \t]*#[ \t]*include[ \t]*"[a-z_]+\// {
	inc = $0
	sub(/^[^"]*"/, "", inc)
	sub(/".*/, "", inc)
	split(inc, q, "/")
	if (me == "serve" && q[1] == "cmd") {
		printf "%s:%d: error: serve/ may not include %s: serve/ sits " \
		       "beside cmd/, which calls into it, never the other " \
		       "way (docs/architecture.md)\n", FILENAME, FNR, inc
		bad = 1
	}
	if ((q[1] in rank) && rank[q[1]] > rank[me]) {
		printf "%s:%d: error: %s/ may not include %s: the layers are " \
		       "os < core < store < steps < engine < worker < serve, cmd, and a layer " \
		       "uses only those below it (docs/architecture.md)\n",
		       FILENAME, FNR, me, inc
		bad = 1
	}
}
END { exit bad }' "$@"
touch "$stamp"
