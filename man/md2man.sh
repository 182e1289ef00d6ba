#!/bin/sh
# Build step (meson): one man page from a docs/ page, with pandoc.
# usage: man/md2man.sh PANDOC NAME SECTION VERSION INPUT.md OUTPUT
# The page's first line ("# task: tasks") becomes the NAME line
# ("task-sync-task - task: tasks"), the rest its DESCRIPTION and sections
# (man/links.lua turns links to other pages into their man page names).
set -eu
[ $# -eq 6 ] || { echo "usage: $0 PANDOC NAME SECTION VERSION INPUT.md OUTPUT" >&2; exit 2; }
pandoc=$1 name=$2 section=$3 version=$4 input=$5 output=$6
here=$(dirname "$0")
title=$(sed -n '1s/^# *//p' "$input")
[ -n "$title" ] || { echo "$input: the first line is not a '# title'" >&2; exit 1; }
upper=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
{
	printf '# NAME\n\n%s - %s\n\n# DESCRIPTION\n\n' "$name" "$title"
	sed 1d "$input"
} | "$pandoc" --standalone --from gfm --to man \
	--lua-filter "$here/links.lua" \
	--metadata title="$upper" --metadata section="$section" \
	--metadata header="task-sync manual" \
	--metadata footer="task-sync $version" \
	--output "$output"
