"""Per-pixel reference implementations (the authors' loops), the baseline of the benchmarks.

Slow on purpose: one Python iteration per pixel of every vortex patch, as in the
authors' MATLAB scripts (``mnist_fashion_vor.m``, ``cifar_vor.m``).
"""

from __future__ import annotations

import math

import numpy as np

from pixinfo.transforms.vortex import VortexKey


def _mround(v: float) -> int:
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def vortex_per_pixel(image: np.ndarray, key: VortexKey, *, strength: float = 1.0) -> np.ndarray:
    """Apply a vortex key to one ``(C, H, W)`` image pixel by pixel."""
    m = np.transpose(image, (2, 1, 0) if key.transposed else (1, 2, 0)).copy()  # the MATLAB matrix
    for v in key.vortices:
        r = v.radius
        if r <= 0:
            continue
        c1, c2 = v.center_row, v.center_col
        patch = m[c1 - r - 1 : c1 + r, c2 - r - 1 : c2 + r].copy()
        out = patch.copy()
        mid = (2 * r + 1) / 2
        for y in range(1, 2 * r + 2):
            for x in range(1, 2 * r + 2):
                xo, yo = x - mid, y - mid
                radius = math.sqrt(xo * xo + yo * yo)
                if radius > r:
                    continue
                k = _mround(radius)
                angle = math.atan2(yo, xo) + strength * (r - k) * v.degree[k - 1] / key.divisor
                out[x - 1, y - 1] = patch[_mround(radius * math.cos(angle) + mid) - 1, _mround(radius * math.sin(angle) + mid) - 1]
        m[c1 - r - 1 : c1 + r, c2 - r - 1 : c2 + r] = out
    return np.transpose(m, (2, 1, 0) if key.transposed else (2, 0, 1))
