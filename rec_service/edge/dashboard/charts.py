"""SVG charts drawn on the server: a page needs no script and loads nothing from elsewhere.

Every label is escaped before it enters the markup; colours are presentation attributes, which
the pages' Content-Security-Policy (no inline styles) allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

PALETTE = ("#2f6fb0", "#e08a1e", "#3a9a5b", "#b5443c", "#7a5ab5", "#5a6b7a")
WIDTH = 640
LABEL_CHAR_PX = 7  # a generous width of one character of a 12 px sans-serif label


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3f}"


def bar_chart(rows: Sequence[tuple[str, float]], unit: str = "", title: str = "") -> Markup:
    """Horizontal bars, one per (label, value), scaled to the largest value."""
    if not rows:
        return Markup("")
    bar_h, gap = 18, 6
    # Labels whole (a blend's name runs to 50 characters): the label column is as wide as the
    # longest one needs at 12 px, and the chart widens with it rather than cutting it off.
    label_w = max(190, LABEL_CHAR_PX * max(len(label) for label, _ in rows) + 16)
    width = max(WIDTH, label_w + WIDTH - 190)
    height = len(rows) * (bar_h + gap) + gap
    top = max(max(v for _, v in rows), 1e-12)
    room = width - label_w - 90
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        w = max(room * max(value, 0.0) / top, 1.0)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" '
            f'fill="{PALETTE[0]}"></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 13}" font-size="12">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    times: Sequence[float], series: Mapping[str, Sequence[float]], unit: str = "", title: str = ""
) -> Markup:
    """One line per series over `times` (Unix seconds, oldest first); the x axis reads in
    minutes before the newest point."""
    if len(times) < 2:
        return Markup('<p class="muted">Not enough samples yet (one every few seconds).</p>')
    left, right, top_pad, bottom, height = 60, 10, 10, 40, 200
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    start, end = times[0], times[-1]
    span = max(end - start, 1e-9)
    peak = max((max(v) for v in series.values() if len(v)), default=0.0) or 1.0

    def x(t: float) -> float:
        return left + plot_w * (t - start) / span

    def y(v: float) -> float:
        return top_pad + plot_h * (1 - v / peak)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{WIDTH - right}" '
        f'y2="{top_pad + plot_h}" stroke="#999"></line>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" '
        f'stroke="#999"></line>',
        f'<text x="{left - 6}" y="{top_pad + 10}" text-anchor="end" font-size="11">'
        f"{escape(_number(peak))}{escape(unit)}</text>",
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" font-size="11">0</text>',
        f'<text x="{left}" y="{top_pad + plot_h + 14}" font-size="11">-{span / 60:.1f} min</text>',
        f'<text x="{WIDTH - right}" y="{top_pad + plot_h + 14}" text-anchor="end" '
        f'font-size="11">now</text>',
    ]
    for i, (name, values) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values, strict=True))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            "</polyline>"
        )
        lx = left + i * 150
        parts.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"></rect>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
