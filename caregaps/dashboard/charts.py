"""Server-rendered SVG charts (no script, nothing fetched): a measure's rate over time."""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 420, 170, 40, 12, 12, 28


def trend_svg(points: list[tuple[date, float | None]], target: float | None = None, inverse: bool = False,
              title: str = "") -> str:
    """A line of rates (0..1) by day with a dashed target line; an empty chart says so."""
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    points = [(d, r) for d, r in points if r is not None]
    days = [d for d, _ in points]
    first, last = (min(days), max(days)) if days else (None, None)
    span = max(1, (last - first).days) if days else 1

    def x(day: date) -> float:
        return PAD_L + (plot_w * ((day - first).days / span) if len(days) > 1 else plot_w / 2)

    def y(rate: float) -> float:
        return PAD_T + plot_h * (1 - rate)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" class="trend">',
             f"<title>{escape(title)}</title>"]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     'stroke="#d9e2ec" stroke-width="1"/>')
        parts.append(f'<text x="{PAD_L - 6}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#627d98">{tick:.0%}</text>')
    if target is not None:
        parts.append(f'<line class="target" x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(target):.1f}" '
                     f'y2="{y(target):.1f}" stroke="#b45309" stroke-dasharray="5 4" stroke-width="1.5"/>')
        parts.append(f'<text x="{WIDTH - PAD_R}" y="{y(target) - 4:.1f}" font-size="10" text-anchor="end" '
                     f'fill="#b45309">target {"&#8804;" if inverse else "&#8805;"} {target:.0%}</text>')
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" font-size="12" text-anchor="middle" '
                     'fill="#627d98">no runs yet</text>')
    else:
        line = " ".join(f"{x(d):.1f},{y(r):.1f}" for d, r in points)
        parts.append(f'<polyline fill="none" stroke="#243b53" stroke-width="2" points="{line}"/>')
        for d, r in points:
            parts.append(f'<circle class="point" cx="{x(d):.1f}" cy="{y(r):.1f}" r="3.5" fill="#243b53" '
                         f'data-rate="{r:.4f}"><title>{d.isoformat()}: {r:.1%}</title></circle>')
        parts.append(f'<text x="{PAD_L}" y="{HEIGHT - 8}" font-size="10" fill="#627d98">{first.isoformat()}</text>')
        if len(days) > 1:
            parts.append(f'<text x="{WIDTH - PAD_R}" y="{HEIGHT - 8}" font-size="10" text-anchor="end" '
                         f'fill="#627d98">{last.isoformat()}</text>')
    parts.append("</svg>")
    return "".join(parts)
