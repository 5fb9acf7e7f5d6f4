"""Plain data classes of what a source holds: experiments, runs, models, datasets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass
class MetricSummary:
    """Summary of one metric key of one run."""

    key: str
    last: float
    min: float | None = None
    max: float | None = None
    count: int = 0
    last_step: int | None = None
    from_history: bool = False  # True when derived from metrics.parquet / the journal

    @property
    def finite(self) -> bool:
        return isinstance(self.last, (int, float)) and math.isfinite(self.last)


@dataclass
class Artifact:
    """A file under a run's artifacts/ folder, or an external artifact recorded in run.yaml."""

    path: str  # relative to artifacts/, POSIX; for external artifacts the recorded name
    size: int | None
    kind: str  # image, svg, text, json, yaml, csv, markdown, html, diff, binary, lfs, external
    digest: str | None = None
    uri: str | None = None
    lfs_oid: str | None = None
    source: Path | None = None  # absolute path inside the source (None for external/LFS-only)
    # The whole file when the listing read it (small files, read to tell a git LFS pointer): its preview
    # uses these bytes rather than reading the file a second time. Not part of the artifact's identity.
    content: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class Run:
    experiment: str
    id: str
    name: str
    status: str
    file: str  # run.yaml path relative to the source
    directory: Path
    start_time: datetime | None = None
    end_time: datetime | None = None
    user: str | None = None
    parent: str | None = None  # uid of the parent run
    tags: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # nested, as written
    params_flat: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, MetricSummary] = field(default_factory=dict)
    notes: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)
    has_history: bool = False  # metrics.parquet or journal present
    has_journal: bool = False
    redacted: list[str] = field(default_factory=list)  # dotted paths whose values were redacted
    children: list[str] = field(default_factory=list)  # uids
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        return f"{self.experiment}/{self.id}"

    @property
    def duration_seconds(self) -> float | None:
        if self.start_time and self.end_time:
            return (self.end_time - self.start_time).total_seconds()
        return None

    @property
    def possibly_crashed(self) -> bool:
        """A run still marked running whose metrics were never compacted: it may have died."""
        return self.status == "running" and self.has_journal


@dataclass
class Experiment:
    slug: str
    title: str
    description: str | None = None
    primary_metric: str | None = None
    goal: str = "max"
    tags: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    runs: list[Run] = field(default_factory=list)


@dataclass
class ModelVersion:
    model: str
    version: int
    file: str
    source_run: str | None = None
    created: datetime | None = None
    stage: str = "none"
    description: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)
    input_example: Any = None
    card: dict[str, Any] = field(default_factory=dict)
    hub: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class AliasEvent:
    alias: str
    version: int | None
    at: datetime | None
    by: str | None = None
    note: str | None = None


@dataclass
class RegisteredModel:
    slug: str
    name: str
    file: str
    description: str | None = None
    owners: list[str] = field(default_factory=list)
    tags: dict[str, Any] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    alias_history: list[AliasEvent] = field(default_factory=list)
    monitoring_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    monitoring_file: Path | None = None
    required_card_sections: list[str] | None = None
    versions: list[ModelVersion] = field(default_factory=list)

    def version(self, n: int) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == n), None)

    def aliases_of(self, n: int) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == n)


@dataclass
class Dataset:
    slug: str
    name: str
    file: str
    uri: str | None = None
    digest: str | None = None
    description: str | None = None
    schema: list[dict[str, Any]] = field(default_factory=list)
    datasheet: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Project:
    """Everything loaded from one source."""

    root: Path
    config: Any
    experiments: dict[str, Experiment] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)  # by uid
    models: dict[str, RegisteredModel] = field(default_factory=dict)
    datasets: dict[str, Dataset] = field(default_factory=dict)
    diagnostics: list[Any] = field(default_factory=list)
    run_digests: dict[str, str] = field(default_factory=dict)  # content digest of each run folder (build cache)
    data_digests: dict[str, str] = field(default_factory=dict)  # the same without run.yaml (its data alone)

    def run(self, ref: str, experiment: str | None = None) -> Run | None:
        """A run by uid (``exp/id``) or, with ``experiment``, by bare id."""
        if "/" not in ref and experiment:
            ref = f"{experiment}/{ref}"
        return self.runs.get(ref)
