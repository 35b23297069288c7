"""The Executions page: every execution on the store, filtered and paged, newest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from atomnb.store import ExecutionStatus
from atomnb.store.browse import ExecutionPage
from atomnb.web.console.layout import (
    console_page,
    esc,
    fmt_count,
    fmt_duration,
    fmt_time,
    status_badge,
)

__all__ = ["executions_page"]

_CSS = """
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;background:#fff;
border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem;margin:.4rem 0 1rem}
form.filters label{display:flex;flex-direction:column;font-size:12px;color:#656d76}
form.filters select,form.filters input{font:inherit;padding:.15rem .3rem}
form.filters select[multiple]{height:6.2rem}
.pager{display:flex;gap:1rem;align-items:center}
"""


def _options(values: Sequence[str], chosen: str | None, blank: str) -> str:
    items = [f"<option value=''>{esc(blank)}</option>"]
    for value in values:
        selected = " selected" if value == chosen else ""
        items.append(f"<option value='{esc(value)}'{selected}>{esc(value)}</option>")
    return "".join(items)


def _filters_form(
    query: Mapping[str, str | list[str]],
    processes: Sequence[str],
    environments: Sequence[str],
    page_size: int,
) -> str:
    def one(name: str) -> str:
        value = query.get(name) or ""
        return value if isinstance(value, str) else (value[0] if value else "")

    chosen = query.get("status") or []
    statuses = [chosen] if isinstance(chosen, str) else list(chosen)
    status_options = "".join(
        f"<option value='{s.value}'{' selected' if s.value in statuses else ''}>"
        f"{esc(s.value.replace('_', ' '))}</option>"
        for s in ExecutionStatus
    )
    process = one("process")
    environment = one("environment")
    if process and process not in processes:
        processes = [*processes, process]
    if environment and environment not in environments:
        environments = [*environments, environment]
    return (
        "<form class='filters' method='get' action='/console/executions' role='search'>"
        f"<label>status<select name='status' multiple>{status_options}</select></label>"
        f"<label>process<select name='process'>{_options(processes, process, 'any')}"
        "</select></label>"
        f"<label>environment<select name='environment'>"
        f"{_options(environments, environment, 'any')}</select></label>"
        f"<label>from (UTC)<input type='datetime-local' name='from' value='{esc(one('from'))}'>"
        "</label>"
        f"<label>to (UTC)<input type='datetime-local' name='to' value='{esc(one('to'))}'></label>"
        f"<label>tracked field<input name='field' size='12' value='{esc(one('field'))}'></label>"
        f"<label>value<input name='value' size='14' value='{esc(one('value'))}'></label>"
        f"<label>per page<input type='number' name='page_size' min='1' max='1000' "
        f"value='{page_size}' style='width:5rem'></label>"
        "<button type='submit'>Filter</button> <a href='/console/executions'>clear</a></form>"
    )


def _row(page: ExecutionPage, index: int) -> str:
    r = page.records[index]
    error = (r.error_summary or "").splitlines()[0][:140] if r.error_summary else ""
    return (
        f"<tr><td><a href='/console/executions/{esc(r.id)}'><code>{esc(r.id)}</code></a></td>"
        f"<td>{esc(r.process)}</td><td>{esc(r.environment)}</td><td>{status_badge(r.status)}</td>"
        f"<td>{esc(r.trigger.value.replace('_', ' '))}</td><td>{fmt_time(r.created_at)}</td>"
        f"<td class='num'>{fmt_duration(r.duration_s)}</td>"
        f"<td class='error'>{esc(error)}</td></tr>"
    )


def executions_page(
    page: ExecutionPage,
    query: Mapping[str, str | list[str]],
    *,
    processes: Sequence[str],
    environments: Sequence[str],
    page_size: int,
    first_page: bool,
    user: str | None = None,
    logout_field: str = "",
    error: str | None = None,
) -> str:
    """The list with its filter form; ``query`` is the request's filters, kept in the links."""
    if page.total is None:
        total = ""
    elif page.total_capped:
        total = f"more than {fmt_count(page.total)} executions match"
    else:
        total = f"{fmt_count(page.total)} execution{'s' if page.total != 1 else ''} match"
    kept = [(k, v) for k, values in query.items() if k not in ("after",) for v in _list(values)]
    links = []
    if not first_page:
        links.append(f"<a href='/console/executions?{esc(urlencode(kept))}'>« newest</a>")
    if page.next_cursor:
        older = urlencode([*kept, ("after", page.next_cursor)])
        links.append(f"<a rel='next' href='/console/executions?{esc(older)}'>older »</a>")
    rows = "".join(_row(page, n) for n in range(len(page.records)))
    table = (
        "<table class='executions'><thead><tr><th>id</th><th>process</th><th>environment</th>"
        "<th>status</th><th>trigger</th><th>created</th><th class='num'>duration</th>"
        f"<th>error</th></tr></thead><tbody>{rows}</tbody></table>"
        if page.records
        else "<p class='muted'>No executions match these filters.</p>"
    )
    problem = f"<p class='error' role='alert'>{esc(error)}</p>" if error else ""
    body = (
        f"<style>{_CSS}</style><h1>Executions</h1>"
        f"{_filters_form(query, processes, environments, page_size)}{problem}"
        f"<div class='pager'><span class='total muted'>{esc(total)}</span>{''.join(links)}</div>"
        f"{table}<div class='pager'>{''.join(links)}</div>"
    )
    return console_page(
        "Executions", body, active="executions", user=user, logout_field=logout_field
    )


def _list(values: str | list[str]) -> list[str]:
    return [values] if isinstance(values, str) else list(values)
