"""CIELAB lightness from sRGB, by the formulas (for the colour tests; no colour library)."""

from __future__ import annotations

import numpy as np


def lightness(rgb: np.ndarray) -> np.ndarray:
    """CIELAB L* of sRGB colours ``[..., 3]`` in 0..255 (IEC 61966-2-1 and CIE 1976, D65 white)."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f - 16
