"""Accuracy charts as self-contained HTML and inline SVG: they render in JupyterLab and Voila alike, offline, with
no images or scripts. Each chart says what it shows in words (a caption and an SVG ``<title>``)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

_FONT = "font-size:12px;line-height:1.3"
_NUMBER = "text-align:right;padding:1px 6px"


def _pct(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.0f}%"


def confusion_html(matrix: np.ndarray, names: Sequence[str], caption: str) -> str:
    """A confusion matrix (rows: true class, columns: predicted), cells shaded by their share of the row."""
    matrix = np.asarray(matrix)
    head = "".join(f'<th style="{_NUMBER}" title="predicted">{html.escape(n)}</th>' for n in names)
    rows = []
    for i, name in enumerate(names):
        total = max(int(matrix[i].sum()), 1)
        cells = []
        for j, count in enumerate(matrix[i]):
            share = count / total
            hue = "27,127,59" if i == j else "176,0,32"
            style = f"{_NUMBER};background:rgba({hue},{0.15 + 0.6 * share if count else 0:.2f})"
            cells.append(f'<td style="{style}">{int(count)}</td>')
        rows.append(f'<tr><th style="text-align:left;padding:1px 6px">{html.escape(name)}</th>{"".join(cells)}</tr>')
    return (
        f'<div class="aef-confusion" style="{_FONT}"><div>{html.escape(caption)}</div>'
        f'<table style="border-collapse:collapse"><thead><tr><th style="text-align:left;padding:1px 6px">true ↓ '
        f"predicted →</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def precision_recall_svg(names: Sequence[str], colors: Sequence[str], precision, recall, caption: str) -> str:
    """Per class, two horizontal bars: precision (solid) and recall (hatched lighter), 0 to 100%."""
    bar, gap, label_w, width = 9, 6, 90, 300
    plot = width - label_w - 40
    height = len(names) * (2 * bar + gap) + 16
    parts = [f"<title>{html.escape(caption)}</title>"]
    for i, name in enumerate(names):
        y = i * (2 * bar + gap)
        parts.append(f'<text x="0" y="{y + bar + 4}" font-size="11">{html.escape(name[:14])}</text>')
        for k, (value, opacity, what) in enumerate(((precision[i], 1.0, "precision"), (recall[i], 0.5, "recall"))):
            v = float(value) if math.isfinite(float(value)) else 0.0
            parts.append(
                f'<rect x="{label_w}" y="{y + k * bar}" width="{plot * v:.1f}" height="{bar - 1}" '
                f'fill="{html.escape(colors[i])}" fill-opacity="{opacity}"><title>{html.escape(name)} {what} '
                f"{_pct(float(value))}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + plot * v + 3:.1f}" y="{y + k * bar + bar - 1}" font-size="9">'
                f"{what[0].upper()} {_pct(float(value))}</text>"
            )
    axis = height - 12
    parts.append(f'<line x1="{label_w}" x2="{label_w + plot}" y1="{axis}" y2="{axis}" stroke="#888"/>')
    parts.append(f'<text x="{label_w}" y="{axis + 11}" font-size="9">0%</text>')
    parts.append(f'<text x="{label_w + plot - 18}" y="{axis + 11}" font-size="9">100%</text>')
    return (
        f'<div class="aef-precision-recall" style="{_FONT}"><div>{html.escape(caption)}</div>'
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg></div>'
    )


def learning_curve_svg(sizes: Sequence[int], means: Sequence[float], stds: Sequence[float], caption: str) -> str:
    """Accuracy (mean, with a bar of one standard deviation) against labels per class."""
    if not sizes:
        return f'<div class="aef-learning-curve" style="{_FONT}">{html.escape(caption)}: too few labels yet.</div>'
    width, height, left, bottom, top = 300, 130, 34, 22, 8
    plot_w, plot_h = width - left - 10, height - bottom - top
    top_size = max(max(sizes), 2)

    def x(n: float) -> float:
        return left + plot_w * (n - 1) / (top_size - 1) if top_size > 1 else left

    def y(acc: float) -> float:
        return top + plot_h * (1 - min(max(acc, 0.0), 1.0))

    parts = [f"<title>{html.escape(caption)}</title>"]
    for level in (0.0, 0.5, 1.0):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(level):.1f}" y2="{y(level):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="2" y="{y(level) + 4:.1f}" font-size="9">{100 * level:.0f}%</text>')
    points = " ".join(f"{x(n):.1f},{y(m):.1f}" for n, m in zip(sizes, means))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for n, m, s in zip(sizes, means, stds):
        parts.append(
            f'<line x1="{x(n):.1f}" x2="{x(n):.1f}" y1="{y(m - s):.1f}" y2="{y(m + s):.1f}" stroke="#1f5fa8"/>'
        )
        parts.append(
            f'<circle cx="{x(n):.1f}" cy="{y(m):.1f}" r="3" fill="#1f5fa8"><title>{n} labels per class: '
            f"{_pct(m)} ± {_pct(s)}</title></circle>"
        )
        parts.append(f'<text x="{x(n) - 3:.1f}" y="{height - 8}" font-size="9">{n}</text>')
    parts.append(f'<text x="{left + plot_w / 2 - 40:.1f}" y="{height}" font-size="9">labels per class</text>')
    return (
        f'<div class="aef-learning-curve" style="{_FONT}"><div>{html.escape(caption)}</div>'
        f'<svg role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">{"".join(parts)}</svg></div>'
    )


def accuracy_table_html(schemes: Sequence[tuple[str, str, float | None, float | None, str]]) -> str:
    """Accuracy by validation scheme side by side: (css class, name, mean, std, note); mean None = not computed."""
    rows = []
    for css, name, mean, std, note in schemes:
        value = "–" if mean is None else f"{100 * mean:.1f}% ± {100 * (std or 0):.1f}"
        rows.append(
            f'<tr class="{css}"><th style="text-align:left;padding:1px 6px">{html.escape(name)}</th>'
            f'<td style="{_NUMBER}"><b>{value}</b></td>'
            f'<td style="padding:1px 6px;color:#555">{html.escape(note)}</td></tr>'
        )
    return f'<table class="aef-accuracy" style="{_FONT};border-collapse:collapse">{"".join(rows)}</table>'
