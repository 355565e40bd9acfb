"""dict_sort.py N - builds, churns and sorts a dict and a list of N entries and
prints a digest of the results, for comparing a run on heaplab with one on
glibc's malloc.  Run with PYTHONMALLOC=malloc, so that every object, small or
large, is a malloc() rather than a slice of Python's own arenas."""
import hashlib
import sys


def lcg(seed):
    """Deterministic numbers that do not depend on Python's random module."""
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        yield x >> 16


def main():
    n = int(sys.argv[1])
    rnd = lcg(12345)
    table = {}
    for i in range(n):
        key = "k%x" % next(rnd)
        table[key] = [i, str(i) * (i % 7 + 1), (i, key)]
    # churn: drop a third, grow the rest, add fresh keys
    for j, key in enumerate(list(table)):
        if j % 3 == 0:
            del table[key]
        else:
            table[key].append(key.upper())
    for i in range(n // 3):
        table["f%d" % next(rnd)] = {"i": i, "s": "x" * (i % 100)}
    items = sorted(table.items(), key=lambda kv: kv[0])
    numbers = sorted((next(rnd) % 1000003) / 7.0 for _ in range(n))
    words = sorted(("%x" % next(rnd)) * (k % 5 + 1) for k in range(n))
    digest = hashlib.sha256()
    for key, value in items:
        digest.update(repr((key, value)).encode())
    digest.update(repr(numbers[:: max(1, n // 1000)]).encode())
    digest.update("".join(words[::97]).encode())
    print("entries %d, numbers %d, words %d" % (len(items), len(numbers), len(words)))
    print("first %s, last %s" % (items[0][0], items[-1][0]))
    print("sha256 %s" % digest.hexdigest())


main()
