"""HTML building blocks of the report: escaping, tables, notes, figures and the page itself.

Every string that comes from a study (configuration values, metric names, error messages, the
rationale of a selection) goes through ``html.escape``. Only ``Markup`` passes through unchanged,
and ``Markup`` is built only by the helpers here from escaped parts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs


class Markup(str):
    """HTML that is already escaped and is inserted as is."""

    __slots__ = ()


def esc(value: Any) -> Markup:
    """Escape ``value`` for an HTML text node or a quoted attribute."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[Any], separator: str = "") -> Markup:
    return Markup(separator.join(esc(part) for part in parts))


def tag(name: str, content: Any = "", **attributes: Any) -> Markup:
    """Build ``<name attributes>content</name>``; ``class_`` sets the class attribute."""
    rendered = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for key, value in attributes.items()
        if value is not None
    )
    return Markup(f"<{name}{rendered}>{esc(content)}</{name}>")


@dataclass(frozen=True)
class Cell:
    """A table cell: the text shown and the key that sorting uses (a number sorts numerically)."""

    content: Any
    sort_key: float | str | None = None
    class_: str | None = None


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    class_: str = "data",
    table_id: str | None = None,
) -> Markup:
    """Build a table; a cell is a ``Cell``, ``Markup`` or any value (escaped)."""
    head = join(tag("th", header) for header in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            if isinstance(cell, Cell):
                cells.append(tag("td", cell.content, data_sort=cell.sort_key, class_=cell.class_))
            else:
                cells.append(tag("td", cell))
        body.append(tag("tr", join(cells)))
    content = Markup(f"<thead><tr>{head}</tr></thead><tbody>{join(body)}</tbody>")
    return tag("table", content, class_=class_, id=table_id)


def key_value_table(rows: Iterable[Sequence[Any]]) -> Markup:
    """Build a two-column table of labels and values, with no header row."""
    body = join(tag("tr", join([tag("th", label), tag("td", value)])) for label, value in rows)
    return tag("table", tag("tbody", body), class_="data kv")


def note(text: Any, *, kind: str = "missing") -> Markup:
    """Render a boxed remark: ``missing`` for what the report cannot show, ``warning`` to alert."""
    return tag("p", text, class_=f"note {kind}")


def paragraph(*parts: Any) -> Markup:
    return tag("p", join(parts))


def details(summary: Any, content: Any, *, open_: bool = False) -> Markup:
    inner = join([tag("summary", summary), content])
    return tag("details", inner, open="open" if open_ else None)


def pre(text: Any) -> Markup:
    return tag("pre", tag("code", text))


def code(text: Any) -> Markup:
    return tag("code", text)


PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "scrollZoom": False}


def figure(fig: go.Figure, figure_id: str, *, height: int = 460) -> Markup:
    """Embed a plotly figure without plotly.js, which the page contains once.

    plotly escapes ``<``, ``>`` and ``/`` in the figure's JSON, so no text in the data can end
    the script element.
    """
    fig.update_layout(height=height)
    markup = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=figure_id,
        config=PLOTLY_CONFIG,
        default_height=f"{height}px",
    )
    return tag("div", Markup(markup), class_="figure")


@dataclass(frozen=True)
class Section:
    """One numbered part of the report: an anchor, a title and its HTML."""

    anchor: str
    title: str
    body: Markup


# The report runs from a local file with no server: this policy lets the browser load nothing
# from any network address, so a missed external reference fails loudly instead of leaking.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)


def page(title: str, subtitle: Any, sections: Sequence[Section]) -> str:
    """Assemble the self-contained HTML document with plotly.js inlined once."""
    navigation = join(
        tag("a", f"{number}. {section.title}", href=f"#{section.anchor}")
        for number, section in enumerate(sections, start=1)
    )
    body = join(
        tag(
            "section",
            join([tag("h2", f"{number}. {section.title}"), section.body]),
            id=section.anchor,
        )
        for number, section in enumerate(sections, start=1)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n"
        f"<script>{get_plotlyjs()}</script>\n</head>\n<body>\n"
        f'<header><h1>{esc(title)}</h1><p class="subtitle">{esc(subtitle)}</p>'
        f"<nav>{navigation}</nav></header>\n<main>{body}</main>\n"
        f"<script>{TABLE_SCRIPT}</script>\n</body>\n</html>\n"
    )


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;
background:#fff;line-height:1.45}
header{background:#f6f8fa;border-bottom:1px solid #d0d7de;padding:12px 28px;position:sticky;top:0;
z-index:10}
h1{font-size:1.35rem;margin:0}
.subtitle{margin:2px 0 6px;color:#57606a}
nav a{margin-right:14px;font-size:.9rem;color:#0550ae;text-decoration:none;white-space:nowrap}
main{padding:8px 28px 40px;max-width:1500px}
section{border-bottom:1px solid #d8dee4;padding-bottom:18px}
h2{font-size:1.2rem;margin-top:26px}
h3{font-size:1.02rem;margin:18px 0 6px}
table.data{border-collapse:collapse;font-size:.86rem;margin:6px 0 12px}
table.data th,table.data td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
vertical-align:top}
table.data th{background:#f6f8fa}
table.kv th{font-weight:500;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:" \\2195";color:#8c959f}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{font-weight:600;background:#dafbe1}
td.bad{color:#a40e26}
.note{padding:8px 12px;border-radius:6px;max-width:1100px}
.note.missing{background:#f6f8fa;border:1px dashed #8c959f;color:#424a53}
.note.warning{background:#fff8c5;border:1px solid #d4a72c}
.note.info{background:#ddf4ff;border:1px solid #54aeff}
.cards{display:flex;flex-wrap:wrap;gap:14px}
.card{border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:320px;max-width:560px}
.card h3{margin-top:4px}
.badge{display:inline-block;background:#ddf4ff;color:#0550ae;border-radius:10px;padding:0 8px;
margin-left:6px;font-size:.78rem;font-weight:500}
.badge.selected{background:#dafbe1;color:#116329}
pre{background:#f6f8fa;padding:10px;overflow:auto;max-height:420px;font-size:.8rem}
.figure{margin:6px 0 14px}
.controls{margin:8px 0}
.controls input,.controls select{margin-right:10px;padding:3px 6px}
.table-wrap{overflow-x:auto;max-height:720px;overflow-y:auto}
"""

TABLE_SCRIPT = """
(function () {
  function keyOf(cell) {
    var raw = cell.hasAttribute('data-sort') ? cell.getAttribute('data-sort') : cell.textContent;
    var number = parseFloat(raw);
    return isNaN(number) || !/^\\s*-?[0-9.]/.test(raw) ? {n: null, s: raw} : {n: number, s: raw};
  }
  function compare(a, b) {
    if (a.n !== null && b.n !== null) { return a.n - b.n; }
    if (a.n !== null) { return -1; }
    if (b.n !== null) { return 1; }
    return a.s.localeCompare(b.s);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (header, column) {
      header.addEventListener('click', function () {
        var body = table.tBodies[0];
        var ascending = header.getAttribute('data-order') !== 'asc';
        table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-order'); });
        header.setAttribute('data-order', ascending ? 'asc' : 'desc');
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (x, y) {
          var order = compare(keyOf(x.cells[column]), keyOf(y.cells[column]));
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
  });
  var text = document.getElementById('trial-filter');
  var status = document.getElementById('status-filter');
  var count = document.getElementById('trial-count');
  function applyFilter() {
    var table = document.getElementById('trials-table');
    if (!table) { return; }
    var needle = text ? text.value.toLowerCase() : '';
    var selectedStatus = status ? status.value : '';
    var visible = 0;
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var matches = row.textContent.toLowerCase().indexOf(needle) >= 0 &&
        (selectedStatus === '' || row.getAttribute('data-status') === selectedStatus);
      row.style.display = matches ? '' : 'none';
      if (matches) { visible += 1; }
    });
    if (count) { count.textContent = visible + ' shown'; }
  }
  if (text) { text.addEventListener('input', applyFilter); }
  if (status) { status.addEventListener('change', applyFilter); }
})();
"""
