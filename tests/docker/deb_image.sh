#!/usr/bin/env bash
# deb_image.sh TAG DEB: build image TAG, a clean Debian 12 for installing DEB:
# the base image (task-sync-base:bookworm, which has no dpkg) plus dpkg and
# the packages that DEB's Depends need, recursively, taken from this host's
# installed packages (files and dpkg database entries), so that `dpkg -i DEB`
# in it checks DEB's dependencies for real. No download: the host's files,
# like the base image (docs: environment.md §3). Prints the package list on
# stderr.
set -euo pipefail

tag=$1
deb=$2
base=${BASE_IMAGE:-task-sync-base:bookworm}

# installed PKG: PKG (a name, no version) is installed on the host
installed() {
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == 'ii ' ]]
}

# picks DEPENDS: for each item of a Depends field (comma-separated, with
# alternatives), the first alternative installed on the host, one a line
picks() {
	local item alt
	local -a items alts
	IFS=',' read -ra items <<<"$1"
	for item in "${items[@]}"; do
		item=$(sed 's/([^)]*)//g; s/\[[^]]*\]//g; s/[[:space:]]//g' <<<"$item")
		[[ -n $item ]] || continue
		IFS='|' read -ra alts <<<"$item"
		for alt in "${alts[@]}"; do
			alt=${alt%%:*}
			if installed "$alt"; then
				printf '%s\n' "$alt"
				continue 2
			fi
		done
		printf 'deb_image.sh: no installed package satisfies "%s"\n' "$item" >&2
		return 1
	done
}

# the closure: DEB's Pre-Depends and Depends, dpkg and libc-bin (ldconfig,
# which dpkg wants on PATH), and what they depend on
declare -A seen=()
queue=(dpkg libc-bin)
mapfile -t -O 2 queue < <(picks "$(dpkg-deb -f "$deb" Pre-Depends), $(dpkg-deb -f "$deb" Depends)")
while [[ ${#queue[@]} -gt 0 ]]; do
	p=${queue[0]}
	queue=("${queue[@]:1}")
	[[ -z ${seen[$p]:-} ]] || continue
	seen[$p]=1
	mapfile -t -O "${#queue[@]}" queue < <(picks "$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$p")")
done
mapfile -t pkgs < <(printf '%s\n' "${!seen[@]}" | sort)
printf 'deb_image.sh: %d packages: %s\n' "${#pkgs[@]}" "${pkgs[*]}" >&2

ctx=$(mktemp -d "${TMPDIR:-/tmp}/task-sync-deb-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
root="$ctx/root"
mkdir -p "$root"/var/lib/dpkg/{info,updates,triggers,alternatives} "$root"/var/log
mkdir -p "$root"/usr/{bin,sbin,lib,lib64}
for l in bin sbin lib lib64; do # usr-merge: /bin -> usr/bin ..., as in the base image
	if [[ -L /$l ]]; then
		ln -s "$(readlink "/$l")" "$root/$l"
	fi
done
# their files (regular files and links; directories come with them), without docs
dpkg -L "${pkgs[@]}" |
	grep -vE '^/usr/share/(doc|man|info|locale|lintian)/' |
	sort -u | tr '\n' '\0' | { xargs -0 stat --printf '%F\t%n\n' 2>/dev/null || true; } |
	awk -F'\t' '$1 ~ /^(regular|symbolic link)/ {print substr($2, 2)}' >"$ctx/files"
tar -C / --no-recursion -cf - -T "$ctx/files" | tar -C "$root" -xf -
# their dpkg database: the status entries and the info files (file lists, ...)
for p in "${pkgs[@]}"; do
	dpkg-query -s "$p"
	echo
done >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
for p in "${pkgs[@]}"; do
	find /var/lib/dpkg/info -maxdepth 1 \( -name "$p.*" -o -name "$p:*.*" \) -exec cp -t "$root/var/lib/dpkg/info" {} +
done
tar -C "$root" -cf "$ctx/root.tar" .
printf 'FROM %s\nADD root.tar /\n' "$base" >"$ctx/Dockerfile"
docker build -q --network none -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.err" || {
	cat "$ctx/build.err" >&2
	exit 1
}
