"""A chart's SVG and its table rows as markup, written here rather than in a template.

A week by the hour is 168 columns, each with up to four bars, a tooltip and a table row:
thousands of elements that Django's template engine renders in tens of milliseconds, plain
string joins in about one. Every text is escaped; numbers are the chart's own floats.
Escaped with the standard library's html.escape, which Django's escape() calls too (the same
text) but behind a lazy-string wrapper that costs more than the escaping, thousands of
times a page.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe

from usage.charts import Chart


def svg(chart: Chart) -> SafeString:
    c = chart
    ident = escape(c.id)
    out = [
        f'<svg class="chart-svg" viewBox="0 0 {c.width} {c.height}" role="img" '
        f'aria-labelledby="chart-{ident}-title chart-{ident}-desc" '
        'preserveAspectRatio="xMidYMid meet">',
        f'<title id="chart-{ident}-title">{escape(c.title)}</title>',
        f'<desc id="chart-{ident}-desc">{escape(c.desc)}</desc>',
        f'<text class="axis-title" x="0" y="0" dy="1em">{escape(c.y_title)}</text>',
        '<g class="grid">',
    ]
    for t in c.y_ticks:
        out.append(
            f'<line x1="{c.left}" x2="{c.right}" y1="{t.pos}" y2="{t.pos}"/>'
            f'<text class="tick" x="{c.left - 8}" y="{t.pos}" dy="0.35em" '
            f'text-anchor="end">{escape(t.label)}</text>'
        )
    out.append('</g><g class="bars">')
    out.extend(
        f'<rect class="{r.css}" x="{r.x}" y="{r.y}" width="{r.w}" height="{r.h}"/>' for r in c.rects
    )
    out.append("</g>")
    for line in c.lines:
        if line.lone:
            x, y = line.points.split(",")
            out.append(f'<circle class="dot {line.css}" cx="{x}" cy="{y}" r="3"/>')
            continue
        dashed = " dashed" if line.dashed else ""
        out.append(
            f'<path class="area {line.css}" d="{line.area}"/>'
            f'<polyline class="line {line.css}{dashed}" points="{line.points}"/>'
        )
    out.append(
        f'<line class="axis" x1="{c.left}" x2="{c.right}" y1="{c.bottom}" y2="{c.bottom}"/>'
        '<g class="xticks">'
    )
    for t in c.x_ticks:
        minor = " tick-minor" if t.minor else ""
        out.append(
            f'<text class="tick{minor}" x="{t.pos}" y="{c.bottom}" dy="1.3em" '
            f'text-anchor="middle">{escape(t.label)}</text>'
        )
    out.append(
        f'</g><text class="axis-title" x="{c.mid_x}" y="{c.height}" dy="-0.35em" '
        f'text-anchor="middle">{escape(c.x_title)}</text>'
    )
    if c.empty:
        out.append(
            f'<text class="chart-empty" x="{c.mid_x}" y="{c.mid_y}" '
            'text-anchor="middle">No calls in this period</text>'
        )
    out.append('<g class="hits">')
    out.extend(
        f'<rect class="hit" x="{h.x}" y="{h.y}" width="{h.w}" height="{h.h}">'
        f"<title>{escape(h.title)}</title></rect>"
        for h in c.hits
    )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308  (every text above is escaped)


def table_rows(chart: Chart) -> SafeString:
    """The table body's rows: the bucket's start as a <time>, then its numbers."""
    return mark_safe(  # noqa: S308  (escaped)
        "".join(
            f'<tr><th scope="row"><time datetime="{escape(row.iso)}">{escape(row.label)}'
            "</time></th>" + "".join(f"<td>{escape(cell)}</td>" for cell in row.cells) + "</tr>"
            for row in chart.table.rows
        )
    )
