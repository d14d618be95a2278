"""WCAG 2.1 colour contrast, written out from the specification (relative luminance, contrast ratio).

Used by the site tests to check plot colours against the backgrounds of both themes; independent of
the palette it checks (``nnbasics.site.figures`` does not compute contrast).
"""

import re


def parse_colour(colour):
    """``#rrggbb`` or CSS ``rgb(r, g, b)`` / ``rgba(r, g, b, a)`` as three channels in [0, 1]."""
    if colour.startswith("#"):
        return [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    channels = re.match(r"rgba?\(\s*([\d.]+),\s*([\d.]+),\s*([\d.]+)", colour)
    if not channels:
        raise ValueError(f"not a colour: {colour!r}")
    return [float(c) / 255 for c in channels.groups()]


def over(colour, background):
    """A CSS colour with an alpha channel (``rgba(...)``) as seen over an opaque background, as ``#rrggbb``."""
    alpha = re.match(r"rgba\([^,]+,[^,]+,[^,]+,\s*([\d.]+)\)", colour)
    a = float(alpha[1]) if alpha else 1.0
    mixed = [a * c + (1 - a) * b for c, b in zip(parse_colour(colour), parse_colour(background))]
    return "#" + "".join(f"{round(c * 255):02x}" for c in mixed)


def relative_luminance(colour):
    """Relative luminance of an sRGB colour (WCAG 2.1, 1.4.3)."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in parse_colour(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a, b):
    """Contrast ratio of two colours, from 1 to 21."""
    hi, lo = sorted([relative_luminance(a), relative_luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)
