#!/usr/bin/env bash
# git_session.sh - init, a few commits, a branch and a merge, then log, show
# and fsck in a temporary repository, with fixed identities and dates so that
# two runs print the same hashes.  Everything here (git, and this bash) runs
# with whatever LD_PRELOAD the caller set.
set -eu
repo=$(mktemp -d "${TMPDIR:-/tmp}/heaplab-git.XXXXXX")
trap 'rm -rf "$repo"' EXIT
export HOME=$repo GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C TZ=UTC
export GIT_AUTHOR_NAME=heaplab GIT_AUTHOR_EMAIL=heaplab@example.invalid
export GIT_COMMITTER_NAME=heaplab GIT_COMMITTER_EMAIL=heaplab@example.invalid
git() { command "${GIT:-git}" "$@"; }
cd "$repo"
git init -q -b main .
for i in 1 2 3 4 5 6; do
    export GIT_AUTHOR_DATE="2024-01-0$i 12:00:00 +0000" GIT_COMMITTER_DATE="2024-01-0$i 12:00:00 +0000"
    seq 1 $((i * 2000)) | sed "s/^/line $i /" >"file$i.txt"
    printf 'revision %d\n' "$i" >>README
    git add -A
    git commit -q -m "commit $i: $(wc -l <"file$i.txt") lines"
    if [ "$i" = 3 ]; then git checkout -q -b side; fi
    if [ "$i" = 5 ]; then git checkout -q main; fi
done
export GIT_AUTHOR_DATE="2024-01-07 12:00:00 +0000" GIT_COMMITTER_DATE="2024-01-07 12:00:00 +0000"
git merge -q --no-edit -X theirs side
git log --graph --format='%H %ad %s' --date=iso
git show --stat HEAD~1 | tail -n 3
git log -p --format=%h | sha256sum
git gc -q
git fsck --full 2>&1
git count-objects -v | grep -v size
