"""The history pages: what changed in the run store, commit by commit, newest first, paged.

history/index.html is page 1, then history/page-2.html, ... A source outside git gets one page that
says so; a shallow clone gets a note that older history is missing.
"""

from __future__ import annotations

from typing import Any, Iterator

from .. import urls
from ..gitinfo import commit_url
from ..githistory import CommitSummary, summarize
from ..model import Project
from . import Page
from .provenance import Facts, gather

PER_PAGE = 50


def _run_ref(project: Project, uid: str) -> dict[str, Any]:
    run = project.runs.get(uid)
    if run is None:
        return {"label": uid, "url": None}
    return {"label": f"{run.name}", "url": urls.run(run.experiment, run.id), "uid": uid}


def _entry(project: Project, s: CommitSummary) -> dict[str, Any]:
    repo = project.config.repo_url
    c = s.commit

    def version_ref(slug: str, n: int) -> dict[str, Any]:
        model = project.models.get(slug)
        exists = model is not None and model.version(n) is not None
        return {"label": f"{model.name if model else slug} v{n}", "url": urls.model_version(slug, n) if exists else None}

    return {
        "sha": c.sha, "short": c.short, "author": c.author, "date": c.date, "subject": c.subject,
        "url": commit_url(repo, c.sha), "boundary": s.boundary,
        "runs": [(verb, [_run_ref(project, u) for u in s.runs[verb]]) for verb in ("added", "changed", "removed")
                 if s.runs.get(verb)],
        "versions": [(verb, [version_ref(m, n) for m, n in s.versions[verb]]) for verb in ("added", "changed", "removed")
                     if s.versions.get(verb)],
        "aliases": [{"model": project.models[a.model].name if a.model in project.models else a.model,
                     "url": urls.model(a.model) if a.model in project.models else None,
                     "alias": a.alias, "old": a.old, "new": a.new} for a in s.aliases],
        "datasets": [(verb, [{"label": d, "url": urls.dataset(d) if d in project.datasets else None}
                             for d in s.datasets[verb]]) for verb in ("added", "changed", "removed")
                     if s.datasets.get(verb)],
        "models": [(verb, s.models[verb]) for verb in ("added", "removed") if s.models.get(verb)],
        "other": s.other,
    }


def pages(project: Project, facts: Facts | None = None) -> Iterator[Page]:
    facts = facts or gather(project)
    info = facts.git
    summaries = summarize(info) if info is not None else []
    count = max(1, -(-len(summaries) // PER_PAGE))
    note = None
    if info is None:
        note = "This source is not in a git repository, so it has no history."
    elif info.shallow:
        note = ("Built from a shallow clone: commits before the oldest one shown are not available here "
                "(fetch the full history with git fetch --unshallow).")
    for number in range(1, count + 1):
        chunk = summaries[(number - 1) * PER_PAGE: number * PER_PAGE]
        pager = {"number": number, "count": count,
                 "prev": urls.history_page(number - 1) if number > 1 else None,
                 "next": urls.history_page(number + 1) if number < count else None,
                 "pages": [(n, urls.history_page(n)) for n in range(1, count + 1)]}
        context = {"entries": [_entry(project, s) for s in chunk], "pager": pager, "note": note,
                   "total": len(summaries)}
        title = "History" if number == 1 else f"History, page {number}"
        yield Page(url=urls.history_page(number), template="history.html", title=title, context=context,
                   kind="history", section="history",
                   breadcrumbs=[("History", urls.HISTORY if number > 1 else "")] + ([(f"Page {number}", "")]
                                                                                   if number > 1 else []))
