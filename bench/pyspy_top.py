"""The hot spots in a py-spy collapsed-stack file (`py-spy record --format raw`, as
`BENCH_PYSPY=<folder> python -m bench gateway_bench` writes them):

    python bench/pyspy_top.py /tmp/prof/d.txt [how-many]

Prints each function's share of the samples, itself (self) and with what it calls (total),
so the gateway's own Python is told apart from granian, the event loop and idle time.
"""

from __future__ import annotations

import sys
from collections import Counter


def top(path: str, count: int = 40) -> None:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    samples = 0
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if not stack or not n.isdigit():
                continue
            weight = int(n)
            samples += weight
            frames = [f.split(" (", 1)[0] + " " + f.rsplit("/", 1)[-1] for f in stack.split(";")]
            own[frames[-1]] += weight
            for frame in set(frames):
                inclusive[frame] += weight
    print(f"{samples} samples")
    print(f"{'self %':>7} {'total %':>8}  function")
    for frame, n in own.most_common(count):
        print(f"{100 * n / samples:7.1f} {100 * inclusive[frame] / samples:8.1f}  {frame}")
    print("\nby total:")
    for frame, n in inclusive.most_common(count):
        print(f"{100 * own[frame] / samples:7.1f} {100 * n / samples:8.1f}  {frame}")


if __name__ == "__main__":
    top(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40)
