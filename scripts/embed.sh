#!/bin/sh
# Build step (meson): embed a file in the binary.
# usage: scripts/embed.sh FILE NAME OUT
# Writes OUT, C source that defines `const char NAME[]`: FILE's bytes and a NUL.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 FILE NAME OUT" >&2; exit 2; }
{
	printf '/* generated from %s by scripts/embed.sh: do not edit */\n' "${1##*/}"
	printf 'extern const char %s[];\nconst char %s[] = {\n' "$2" "$2"
	od -An -v -tx1 "$1" | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'
	printf '0x00\n};\n'
} >"$3.tmp"
mv "$3.tmp" "$3"
