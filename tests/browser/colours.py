"""CSS colours as the browser reports them, and the WCAG 2 contrast ratio between two of them."""

from __future__ import annotations

import re


def channel(value: float) -> float:
    """One sRGB channel (0-255) as linear light (WCAG 2's relative-luminance step)."""
    value /= 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def rgba(text: str) -> tuple[float, float, float, float]:
    """``rgb(...)``, ``rgba(...)`` or ``color(srgb ...)`` as (r, g, b, alpha), channels on 0-255."""
    numbers = [float(x) for x in re.findall(r"[\d.]+", text)]
    if text.startswith("color(srgb ") and len(numbers) >= 3:  # what browsers resolve some CSS colours to
        return (numbers[0] * 255, numbers[1] * 255, numbers[2] * 255, numbers[3] if len(numbers) > 3 else 1.0)
    if not text.startswith("rgb") or len(numbers) < 3:
        raise ValueError(f"not an rgb() colour: {text!r}")
    return (*numbers[:3], numbers[3] if len(numbers) > 3 else 1.0)  # type: ignore[return-value]


def over(fg: str, bg: str) -> tuple[float, float, float]:
    """``fg`` composited over the opaque ``bg`` (a translucent text colour as the reader sees it)."""
    *top, alpha = rgba(fg)
    bottom = rgba(bg)[:3]
    return tuple(alpha * t + (1 - alpha) * b for t, b in zip(top, bottom))  # type: ignore[return-value]


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of text ``fg`` on background ``bg`` (both CSS rgb()/rgba() strings)."""
    def luminance(rgb: tuple[float, ...]) -> float:
        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(over(fg, bg)), luminance(rgba(bg)[:3])), reverse=True)
    return (light + 0.05) / (dark + 0.05)
