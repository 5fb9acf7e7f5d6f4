"""data/summaries/<exp>.js: each experiment's run summaries (pages.compare.summaries) as a classic script.

The experiment page's run table is drawn from it, and the ad-hoc comparison page
(compare/index.html?runs=exp/id,...) loads only the experiments of the runs it is asked for: neither page
carries the summaries itself, so both stay a few kilobytes at any scale, and the summaries are made once.
The script files its data in ``self.sitegenSummaries[<exp>]`` (a classic script, so it loads from file://).
"""

from __future__ import annotations

import json
from typing import Iterator

from .. import urls
from ..jsonutil import dumps_for_script
from ..model import Project
from ..pages.compare import summaries
from ..pages.experiment import ordered_runs


def script(slug: str, project: Project) -> str:
    runs = [run for run, _depth in ordered_runs(project.experiments[slug])]  # the run table's order
    body = dumps_for_script(summaries(runs, project))
    return f"(self.sitegenSummaries=self.sitegenSummaries||{{}})[{json.dumps(slug)}]={body};\n"


def files(project: Project) -> Iterator[tuple[str, str]]:
    for slug in sorted(project.experiments):
        yield urls.experiment_summaries_js(slug), script(slug, project)
