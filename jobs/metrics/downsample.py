"""Largest-Triangle-Three-Buckets: keeps the visual shape of a long series in a few thousand
points, so a chart never draws 100k points (exact values stay in the table and the download)."""

from __future__ import annotations

from collections.abc import Sequence


def lttb(points: Sequence[Sequence[float]], threshold: int) -> list:
    """`points` sorted by x (each `(x, y, ...)`; extra fields ride along); at most `threshold`
    of them come back, always the first and the last."""
    n = len(points)
    if threshold >= n or threshold < 3:
        return list(points) if threshold >= n else [points[0], points[-1]][: max(threshold, 0)]
    out = [points[0]]
    every = (n - 2) / (threshold - 2)
    a = 0
    for i in range(threshold - 2):
        # the average of the next bucket is the third corner of the triangle
        start, end = int((i + 1) * every) + 1, min(int((i + 2) * every) + 1, n)
        count = end - start
        avg_x = sum(points[j][0] for j in range(start, end)) / count
        avg_y = sum(points[j][1] for j in range(start, end)) / count
        lo, hi = int(i * every) + 1, int((i + 1) * every) + 1
        ax, ay = points[a][0], points[a][1]
        best, best_area = lo, -1.0
        for j in range(lo, hi):
            area = abs((ax - avg_x) * (points[j][1] - ay) - (ax - points[j][0]) * (avg_y - ay))
            if area > best_area:
                best, best_area = j, area
        out.append(points[best])
        a = best
    out.append(points[-1])
    return out
