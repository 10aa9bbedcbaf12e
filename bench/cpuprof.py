"""A CPU-time sampling profiler inside a gunicorn worker, for `make profile`.

py-spy samples from outside by wall clock: on a machine shared with other work, a worker that
is runnable but waiting for a core looks busy wherever it last woke up (mostly right after a
socket read), so its samples pile up at I/O. ITIMER_PROF fires only after the process has used
this much CPU time (user and system), so each sample here is a slice of CPU actually spent.
bench/server.py switches it on when BENCH_CPU_PROFILE=1; the driver reads and resets the
samples over HTTP (/bench/profile/).

Also: ``flamegraph_svg``, a plain SVG flame graph of collapsed stacks (no JavaScript), so the
picture and the summary come from the same samples.
"""

from __future__ import annotations

import collections
import html
import signal
import time
import zlib

# Asked for every millisecond of CPU; the kernel fires process CPU timers on its tick (often
# 4 ms), so each sample is weighted by the CPU time actually used since the one before.
INTERVAL = 0.001

# Collapsed stack -> microseconds of CPU.
_samples: collections.Counter[str] = collections.Counter()
_running = False
_last = 0.0


def _where(code) -> str:
    path = code.co_filename
    for marker in ("/site-packages/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = path.split("/", 1)[-1]
            break
    else:
        for root in ("/accounts/", "/security/", "/twofactor_site/", "/bench/"):
            if root in path:
                path = root[1:] + path.rsplit(root, 1)[1]
                break
    return f"{getattr(code, 'co_qualname', code.co_name)} ({path})"


def _sample(signum, frame) -> None:
    global _last
    now = time.process_time()
    used, _last = now - _last, now
    stack = []
    while frame is not None and len(stack) < 200:
        stack.append(_where(frame.f_code))
        frame = frame.f_back
    _samples[";".join(reversed(stack))] += int(used * 1_000_000)


def start() -> None:
    global _running, _last
    if _running:
        return
    _last = time.process_time()
    signal.signal(signal.SIGPROF, _sample)
    signal.setitimer(signal.ITIMER_PROF, INTERVAL, INTERVAL)
    _running = True


def take() -> str:
    """The samples so far as collapsed stacks (``frame;frame;frame microseconds`` lines), and
    a fresh start. The handler writes to whichever counter is current, so swap, then read."""
    global _samples
    taken, _samples = _samples, collections.Counter()
    return "\n".join(f"{stack} {us}" for stack, us in taken.items())


def flamegraph_svg(collapsed: str, *, title: str, width: int = 1400) -> str:
    """An SVG flame graph: one box per frame, as wide as its share of the samples."""
    root: dict = {"n": 0, "kids": {}}
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        node = root
        node["n"] += count
        for frame in stack.split(";"):
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += count
    total = max(root["n"], 1)
    row, boxes = 16, []
    depth_max = 0

    def walk(node: dict, x: float, depth: int) -> None:
        nonlocal depth_max
        for name, kid in sorted(node["kids"].items()):
            w = kid["n"] / total * width
            if w >= 0.5:
                depth_max = max(depth_max, depth)
                boxes.append((x, depth, w, name, kid["n"]))
                walk(kid, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    height = (depth_max + 3) * row
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'font-family="monospace" font-size="11">',
        f'<text x="4" y="12">{html.escape(title)} · {total / 1000:.0f} ms of CPU</text>',
    ]
    for x, depth, w, name, n in boxes:
        y = height - (depth + 1) * row
        hue = 20 + zlib.crc32(name.split(" (")[-1].encode()) % 40
        label = html.escape(name)
        out.append(
            f'<g><title>{label}: {n / 1000:.1f} ms, {100 * n / total:.1f}%</title>'
            f'<rect x="{x:.1f}" y="{y}" width="{max(w - 0.3, 0.2):.1f}" height="{row - 1}" '
            f'fill="hsl({hue},80%,60%)"/>'
        )
        if w > 40:
            chars = int(w / 6.6)
            out.append(
                f'<text x="{x + 2:.1f}" y="{y + 11}">{html.escape(name[:chars])}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)
