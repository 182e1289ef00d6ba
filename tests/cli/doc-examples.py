#!/usr/bin/env python3
"""Replay the ```console examples of a Markdown page against task-sync.

usage: doc-examples.py BINARY PAGE.md

The convention (docs/README.md, "Examples in these pages"):
  * in a ```console block, a line starting with "$ " is a command, and it must
    start with "$ task-sync "; lines starting with "> " continue it (a newline
    is kept, as in a shell's PS2 prompt)
  * the lines after it, up to the next command or the end of the block, are
    its output (stdout and stderr together, in any order); each must match a
    whole line of what the command printed, trailing blanks ignored, where
    "…" stands for any text
  * a first output line "# exit N" says the command exits N; otherwise it
    must exit 0
Commands run in order, in the current directory and environment, through
bash, with task-sync being BINARY. Prints one line per command; exits 1 if
any failed, 2 if the page breaks the convention.
"""
import re
import subprocess
import sys


def parse(path):
    """[(lineno, command, expected_exit, [output lines])] of every console block"""
    examples = []
    in_block = False
    cur = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for no, line in enumerate(lines, 1):
        if not in_block:
            if line.strip() == "```console":
                in_block = True
            continue
        if line.strip().startswith("```"):
            in_block = False
            cur = None
            continue
        if line.startswith("$ "):
            if not line.startswith("$ task-sync ") and line != "$ task-sync":
                raise SyntaxError(f"{path}:{no}: a console command must start with '$ task-sync': {line}")
            cur = [no, line[2:], 0, []]
            examples.append(cur)
        elif line.startswith("> ") and cur is not None and not cur[3]:
            cur[1] += "\n" + line[2:]
        elif cur is None:
            if line.strip():
                raise SyntaxError(f"{path}:{no}: output before any command: {line}")
        else:
            m = re.fullmatch(r"# exit (\d+)", line.strip())
            if m and not cur[3]:
                cur[2] = int(m.group(1))
                cur[3].append(None)  # keeps later "> " lines from continuing
            elif line.strip():
                cur[3].append(line.rstrip())
    if in_block:
        raise SyntaxError(f"{path}: a ```console block is not closed")
    for ex in examples:
        ex[3] = [l for l in ex[3] if l is not None]
    return examples


def pattern(line):
    return re.compile("".join(".*" if c == "…" else re.escape(c) for c in line))


def main():
    binary, page = sys.argv[1], sys.argv[2]
    try:
        examples = parse(page)
    except SyntaxError as e:
        print(f"error: {e}")
        return 2
    failed = 0
    prelude = 'task-sync() { "$TASK_SYNC_DOC_BIN" "$@"; }\n'
    for no, cmd, want, expected in examples:
        p = subprocess.run(["bash", "-c", prelude + cmd], capture_output=True, text=True,
                           env={**__import__("os").environ, "TASK_SYNC_DOC_BIN": binary},
                           stdin=subprocess.DEVNULL, timeout=60)
        got = [l.rstrip() for l in (p.stdout + "\n" + p.stderr).split("\n")]
        problems = []
        if p.returncode != want:
            problems.append(f"exit {p.returncode}, expected {want}")
        for line in expected:
            rx = pattern(line)
            if not any(rx.fullmatch(g) for g in got):
                problems.append(f"no output line matches: {line}")
        first = cmd.split("\n")[0]
        if problems:
            failed += 1
            print(f"FAIL {page}:{no}: $ {first}")
            for pr in problems:
                print(f"     {pr}")
            print("     --- stdout:\n" + "".join(f"     | {l}\n" for l in p.stdout.splitlines()), end="")
            print("     --- stderr:\n" + "".join(f"     | {l}\n" for l in p.stderr.splitlines()), end="")
        else:
            print(f"ok   {page}:{no}: $ {first}")
    print(f"{len(examples)} examples, {failed} failed")
    if not examples:
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
