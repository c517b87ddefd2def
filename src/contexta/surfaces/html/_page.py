"""The page shell: inline stylesheet, a strict Content-Security-Policy, header and footer.

The policy forbids scripts and every network fetch, so the report behaves the same when
opened from a mail attachment on an offline laptop.
"""

from __future__ import annotations

from contexta.surfaces.html._markup import Markup, element, text

__all__ = ["page"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; color: #111827; background: #f9fafb; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 10px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.sub { color: #4b5563; margin: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px;
        min-width: 150px; }
.card b { display: block; font-size: 22px; }
.card span { color: #6b7280; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: 13px; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; position: sticky; top: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
td.nowrap { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.sev-error td { background: #fef2f2; }
tr.sev-warning td { background: #fffbeb; }
.badge { display: inline-block; border-radius: 10px; padding: 0 7px; margin: 1px 2px 1px 0;
         font-size: 12px; white-space: nowrap; }
.badge.error { background: #fee2e2; color: #991b1b; }
.badge.warning { background: #fef3c7; color: #92400e; }
.badge.info { background: #e0f2fe; color: #075985; }
.ok { color: #047857; }
.chart { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px;
         margin: 10px 0; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .grid { stroke: #e5e7eb; stroke-width: 1; }
.chart .tick { font-size: 11px; fill: #6b7280; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: #374151;
          margin-top: 4px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
            margin-right: 4px; vertical-align: -1px; }
dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; }
dl.details dt { color: #6b7280; }
dl.details dd { margin: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
                font-size: 12px; overflow-wrap: anywhere; }
.muted { color: #6b7280; }
footer { color: #6b7280; font-size: 12px; padding: 28px 20px 40px; }
"""


def page(title: str, body: Markup, *, footer: Markup) -> str:
    """A complete HTML document around ``body``."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{element('title', title)}<style>{_CSS}</style></head>\n"
        f"<body>{body}<footer>{text(footer)}</footer></body></html>\n"
    )
