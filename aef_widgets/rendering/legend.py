"""Legends, colour bars and small tables as self-contained HTML: no images, icon fonts or scripts."""

from __future__ import annotations

import html
from collections.abc import Sequence

from .colors import css_gradient


def colorbar_html(cmap: str, vmin: float, vmax: float, label: str) -> str:
    """A horizontal colour bar with its two end values and a label."""
    return (
        f'<div class="aef-colorbar" style="font-size:12px;line-height:1.3">'
        f"<div>{html.escape(label)}</div>"
        f'<div style="height:10px;border:1px solid #888;background:{css_gradient(cmap)}"></div>'
        f'<div style="display:flex;justify-content:space-between"><span>{vmin:g}</span><span>{vmax:g}</span></div>'
        "</div>"
    )


def table_html(columns: Sequence[str], rows: Sequence[Sequence[object]], swatches: Sequence[str] = ()) -> str:
    """A compact table; an optional colour swatch leads each row."""
    head = "".join(f'<th style="text-align:right;padding:0 6px">{html.escape(c)}</th>' for c in columns)
    body = []
    for i, row in enumerate(rows):
        swatch = (
            f'<td><span style="display:inline-block;width:10px;height:10px;background:{swatches[i]}"></span></td>'
            if swatches
            else ""
        )
        cells = "".join(f'<td style="text-align:right;padding:0 6px">{html.escape(str(v))}</td>' for v in row)
        body.append(f"<tr>{swatch}{cells}</tr>")
    lead = "<th></th>" if swatches else ""
    return (
        f'<table class="aef-table" style="font-size:12px;border-collapse:collapse">'
        f"<thead><tr>{lead}{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
