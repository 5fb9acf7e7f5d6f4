"""Golden output of the sample site: any change to a page shows up here and must be accepted on purpose.

The pages are compared after one normalisation: the contents of JSON data blocks (chart specs, table
data) are replaced by their digest, so the stored copies stay readable. Every HTML page is checked by
digest; a few representative pages are stored whole so a review shows what changed.

Accept a deliberate change with:  SITEGEN_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent / "golden"
DIGESTS = GOLDEN / "sample_site.json"
WHOLE = ("index.html", "experiments/churn/index.html", "runs/churn/20261110-094409-d5a861/index.html",
         "models/churn/2/index.html", "models/index.html", "datasets/churn-2026q3/index.html", "404.html")
_JSON_BLOCK = re.compile(r'(<script type="application/json"[^>]*>)(.*?)(</script>)', re.S)


def normalise(html: str) -> str:
    def digest(m: re.Match) -> str:
        return m.group(1) + "sha256:" + hashlib.sha256(m.group(2).encode()).hexdigest()[:16] + m.group(3)

    return _JSON_BLOCK.sub(digest, html)


def test_sample_site_matches_golden(sample_site):
    pages = {p.relative_to(sample_site.output).as_posix(): normalise(p.read_text(encoding="utf-8"))
             for p in sorted(sample_site.output.rglob("*.html"))}
    digests = {path: hashlib.sha256(text.encode()).hexdigest() for path, text in pages.items()}
    if os.environ.get("SITEGEN_UPDATE_GOLDEN"):
        DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        for path in WHOLE:
            target = GOLDEN / "pages" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(pages[path], encoding="utf-8")
    expected = json.loads(DIGESTS.read_text())
    for path in WHOLE:
        assert pages[path] == (GOLDEN / "pages" / path).read_text(encoding="utf-8"), (
            f"{path} changed; compare with tests/golden/pages/{path} (accept with SITEGEN_UPDATE_GOLDEN=1)")
    assert sorted(set(expected) ^ set(digests)) == [], "pages were added or removed"
    changed = sorted(p for p in digests if digests[p] != expected[p])
    assert changed == [], f"{len(changed)} page(s) changed: {changed[:10]} (accept with SITEGEN_UPDATE_GOLDEN=1)"
