"""The hot spots in a py-spy collapsed-stack file (`py-spy record --format raw`, as
`BENCH_PYSPY=<folder> python -m bench gateway_bench` writes them):

    python bench/pyspy_top.py /tmp/prof/d.txt [how-many]

Prints each function's share of the samples, itself (self) and with what it calls (total),
so the gateway's own Python is told apart from the server, the event loop and idle time.
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
            stack, _, weight_text = line.rstrip("\n").rpartition(" ")
            if not stack or not weight_text.isdigit():
                continue
            weight = int(weight_text)
            samples += weight
            frames = [f.split(" (", 1)[0] + " " + f.rsplit("/", 1)[-1] for f in stack.split(";")]
            own[frames[-1]] += weight
            for frame in set(frames):
                inclusive[frame] += weight
    print(f"{samples} samples")
    print(f"{'self %':>7} {'total %':>8}  function")
    for name, n in own.most_common(count):
        print(f"{100 * n / samples:7.1f} {100 * inclusive[name] / samples:8.1f}  {name}")
    print("\nby total:")
    for name, n in inclusive.most_common(count):
        print(f"{100 * own[name] / samples:7.1f} {100 * n / samples:8.1f}  {name}")


if __name__ == "__main__":
    top(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40)
