"""The bad-input corpus as a description table: every case writes its files into a source at test time.

Each :class:`Case` writes into its own experiment / model / dataset folder, so all cases can live in one
source (``make_corpus``) beside a few good items that must survive. A case lists the exact diagnostics
``sitegen validate`` prints for it (file, line, column, severity, a message substring), the site pages a
non-strict build must still write, and the pages it must leave out.

Nothing large is committed: the 50 MB YAML file and the 2 GB sparse artifact are made here, in tmp.
Files outside the source (targets of the symlink cases) hold :data:`OUTSIDE_MARKER`, which must never
appear in a built site.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from sitegen import urls

OUTSIDE_MARKER = "OUTSIDE-THE-SOURCE-5f1c2a"
SPARSE_SIZE = 2 * 1024**3
BIG_YAML_SIZE = 50 * 1024**2
LFS_OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"


@dataclass(frozen=True)
class Expect:
    """One diagnostic: ``path:line:col: severity: ...message...``."""

    path: str
    line: int
    col: int
    severity: str
    message: str

    def matches(self, d) -> bool:
        return (d.path, d.line, d.col, d.severity) == (self.path, self.line, self.col, self.severity) \
            and self.message in d.message

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: ...{self.message}..."


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    make: Callable[[Path], None]
    expect: tuple[Expect, ...] = ()
    built: tuple[str, ...] = ()  # site paths a non-strict build still writes
    absent: tuple[str, ...] = ()  # site paths it must not write
    produced: str = ""  # what the case produced, for the report


# --- writing helpers ----------------------------------------------------------------------------------


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def write_bytes(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def run_yaml(run_id: str, extra: str = "") -> str:
    return (f"format: sitegen.run/1\nid: {run_id}\nname: {run_id}\nstatus: finished\n"
            f"start_time: 2026-01-02T03:04:05Z\n" + textwrap.dedent(extra).lstrip("\n"))


def good_run(root: Path, exp: str, run_id: str, extra: str = "") -> Path:
    return write(root, f"runs/{exp}/{run_id}/run.yaml", run_yaml(run_id, extra))


def metrics_table(keys, steps, values) -> pa.Table:
    n = len(steps)
    return pa.table({"key": pa.array(keys, pa.string()), "step": pa.array(steps, pa.int64()),
                     "value": pa.array(values, pa.float64()),
                     "timestamp": pa.array([1_767_225_600_000 + i for i in range(n)], pa.timestamp("ms", "UTC"))})


def write_parquet(path: Path, table: pa.Table) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def valid_parquet_bytes(tmp: Path) -> bytes:
    p = write_parquet(tmp / "valid.parquet", metrics_table(["loss"] * 50, list(range(50)),
                                                            [1.0 / (i + 1) for i in range(50)]))
    data = p.read_bytes()
    p.unlink()
    return data


def outside(root: Path) -> Path:
    """A folder beside the source (never inside it) holding the marker; symlink targets live here."""
    out = root.parent / f"{root.name}-outside"
    (out / "dir").mkdir(parents=True, exist_ok=True)
    (out / "secret.txt").write_text(f"{OUTSIDE_MARKER}\n")
    (out / "run.yaml").write_text(run_yaml("linked", f"notes: {OUTSIDE_MARKER}\n"))
    (out / "dir" / "run.yaml").write_text(run_yaml("linked-dir", f"notes: {OUTSIDE_MARKER}\n"))
    (out / "dir" / "secret.txt").write_text(f"{OUTSIDE_MARKER}\n")
    (out / "data.yaml").write_text(f"format: sitegen.dataset/1\nname: {OUTSIDE_MARKER}\n")
    return out


# --- the cases ----------------------------------------------------------------------------------------

E = Expect


def _syntax(root):
    good_run(root, "yaml-syntax", "r1", "params:\n  lr: [0.1, 0.2\n  seed: 1\n")


def _tabs(root):
    good_run(root, "yaml-tabs", "r1", "params:\n\tlr: 0.1\n")


def _dup(root):
    good_run(root, "yaml-duplicate", "r1", "params:\n  lr: 0.1\n  lr: 0.2\n")


def _wrong_types(root):
    good_run(root, "wrong-types", "r1", "metrics:\n  auc: high\ntags:\n  team: [a, b]\n")
    write(root, "runs/wrong-types/r2/run.yaml", "format: sitegen.run/1\nid: r2\nstatus: done\nparams: 3\n")


def _missing(root):
    write(root, "runs/missing-required/r1/run.yaml", "format: sitegen.run/1\nname: no id here\n")
    write(root, "runs/missing-required/r2/run.yaml", "")
    write(root, "runs/missing-required/r3/run.yaml", "- just\n- a list\n")


def _format(root):
    write(root, "runs/format-version/r1/run.yaml", "format: sitegen.run/2\nid: r1\n")
    write(root, "runs/format-version/r2/run.yaml", "format: sitegen.model/1\nid: r2\n")


def _id_folder(root):
    write(root, "runs/id-mismatch/r1/run.yaml", run_yaml("r2"))


def _traversal(root):
    good_run(root, "traversal", "r1", f"""
        parent: ../../etc/passwd
        """)
    good_run(root, "traversal", "r2", f"""
        artifacts:
          - name: escape
            path: ../../../{root.name}-outside/secret.txt
          - name: absolute
            path: /etc/passwd
            uri: file:///etc/shadow
        provenance:
          environment:
            lockfile: /etc/passwd
          outputs:
            - name: model
              path: ../../../{root.name}-outside/secret.txt
        """)


def _odd_names(root):
    good_run(root, "odd-names", "odd-ok")
    write(root, f"runs/odd-names/{'r' * 200}/run.yaml", run_yaml("r" * 200))
    write(root, "runs/odd-names/.hidden/run.yaml", run_yaml(".hidden"))
    write(root, "runs/odd-names/-dash/run.yaml", run_yaml("-dash"))
    write(root, "runs/odd-names/sp ace/run.yaml", run_yaml("sp ace"))
    write(root, "runs/odd-names/new\nline/run.yaml", run_yaml("x"))
    # a Cyrillic 'а' (U+0430) that looks like a Latin 'a'
    write(root, "runs/odd-names/\u0430bc/run.yaml", run_yaml("\u0430bc"))
    write(root, "runs/\u0441hurn/r1/run.yaml", run_yaml("r1"))  # Cyrillic 'с' in the experiment name
    write(root, "runs/UPPER/r1/run.yaml", run_yaml("r1"))
    # a 300-character name is longer than a file name may be (255 bytes): the longest legal one instead
    long_name = "n" * 251 + ".svg"  # 255 bytes; published as .svg.txt
    write(root, f"runs/odd-names/odd-ok/artifacts/{long_name}", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    write(root, "runs/odd-names/odd-ok/artifacts/we ird & <name>.txt", "odd file name\n")
    good_run(root, "odd-names", "nul", 'tags:\n  t: "before\\0after"\nnotes: "x\\x00y"\n')


def _nul_byte(root):
    write_bytes(root, "runs/nul-byte/r1/run.yaml", run_yaml("r1").encode() + b"notes: a\x00b\n")


def _symlinks(root):
    out = outside(root)
    good_run(root, "symlinks", "ok")
    arts = root / "runs/symlinks/ok/artifacts"
    arts.mkdir(parents=True)
    (arts / "passwd").symlink_to("/etc/passwd")
    (arts / "secret.txt").symlink_to(out / "secret.txt")
    (arts / "outdir").symlink_to(out / "dir", target_is_directory=True)
    (arts / "loop").symlink_to("loop")
    (arts / "ping").symlink_to("pong")
    (arts / "pong").symlink_to("ping")
    (arts / "self").symlink_to(".", target_is_directory=True)
    (arts / "real.txt").write_text("a real artifact\n")
    (root / "runs/symlinks/linked-dir").symlink_to(out / "dir", target_is_directory=True)
    (root / "runs/symlinks/linked-file").mkdir()
    (root / "runs/symlinks/linked-file/run.yaml").symlink_to(out / "run.yaml")
    good_run(root, "symlinks", "linked-metrics")
    (root / "runs/symlinks/linked-metrics/metrics.parquet").symlink_to(out / "secret.txt")
    (root / "runs/symlinked-experiment").symlink_to(out, target_is_directory=True)
    (root / "datasets").mkdir(exist_ok=True)
    (root / "datasets/linked.yaml").symlink_to(out / "data.yaml")


def _alias_bomb(root):
    lines = ["format: sitegen.run/1", "id: r1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    write(root, "runs/alias-bomb/r1/run.yaml", "\n".join(lines) + "\n")


def _big_yaml(root):
    path = root / "runs/big-yaml/r1/run.yaml"
    path.parent.mkdir(parents=True)
    with open(path, "w") as fh:
        fh.write(run_yaml("r1") + "params:\n")
        chunk = "".join(f"  p{i:07d}: {'x' * 40}\n" for i in range(10_000))
        while fh.tell() < BIG_YAML_SIZE:
            fh.write(chunk)


def _sparse(root):
    good_run(root, "sparse-artifact", "sparse1")
    path = root / "runs/sparse-artifact/sparse1/artifacts/weights.bin"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as fh:
        fh.truncate(SPARSE_SIZE)


def _parquet(root):
    tmp = root.parent
    data = valid_parquet_bytes(tmp)
    good_run(root, "bad-parquet", "corrupt", "metrics:\n  loss: 0.5\n")
    write_bytes(root, "runs/bad-parquet/corrupt/metrics.parquet", b"PAR1" + os.urandom(64) + b"garbage")
    good_run(root, "bad-parquet", "truncated")
    write_bytes(root, "runs/bad-parquet/truncated/metrics.parquet", data[: len(data) // 2])
    good_run(root, "bad-parquet", "empty")
    write_bytes(root, "runs/bad-parquet/empty/metrics.parquet", b"")
    good_run(root, "bad-parquet", "wrong-schema")
    write_parquet(root / "runs/bad-parquet/wrong-schema/metrics.parquet",
                  pa.table({"name": ["loss"], "epoch": [1], "v": [0.5]}))
    good_run(root, "bad-parquet", "wrong-types")
    write_parquet(root / "runs/bad-parquet/wrong-types/metrics.parquet",
                  pa.table({"key": ["loss", "loss"], "step": ["one", "two"], "value": [0.5, 0.4]}))
    good_run(root, "bad-parquet", "torn-journal")
    write(root, "runs/bad-parquet/torn-journal/metrics.journal.jsonl",
          '{"key": "loss", "step": 0, "value": 1.0}\n{"key": "loss", "step": "x", "value": 0.9}\n'
          '{"key": "loss", "step": 2, "value": 0.8}\n{"key": "loss", "st')


def _encoding(root):
    write_bytes(root, "runs/encoding/latin1/run.yaml", run_yaml("latin1").encode() + "notes: caf\u00e9\n".encode("latin-1"))
    write_bytes(root, "runs/encoding/bom/run.yaml", b"\xef\xbb\xbf" + run_yaml("bom", "notes: caf\u00e9 with a BOM\n").encode())
    write_bytes(root, "runs/encoding/utf16/run.yaml", run_yaml("utf16").encode("utf-16"))
    good_run(root, "encoding", "artifacts")
    write_bytes(root, "runs/encoding/artifacts/artifacts/latin1.txt", "caf\u00e9\n".encode("latin-1"))
    write_bytes(root, "runs/encoding/artifacts/artifacts/bom.csv", b"\xef\xbb\xbfa,b\n1,2\n")


def _extreme_numbers(root):
    good_run(root, "extreme-numbers", "numbers1", """
        metrics:
          nan: .nan
          inf: .inf
          ninf: -.inf
          huge: 1e308
          tiny: -1e308
          null_metric: null
        params:
          huge: 1e308
          nan: .nan
        """)
    write_parquet(root / "runs/extreme-numbers/numbers1/metrics.parquet",
                  metrics_table(["loss"] * 6 + ["huge"] * 3, list(range(6)) + list(range(3)),
                                [1.0, float("nan"), float("inf"), float("-inf"), 1e308, -1e308, 1e308, -1e308, 0.0]))


def _many_params(root):
    lines = "".join(f"  p{i:05d}: {i}\n" for i in range(10_000))
    good_run(root, "many-params", "params1", "params:\n" + lines)


def _duplicate_ids(root):
    good_run(root, "dup-a", "same-id")
    good_run(root, "dup-b", "same-id")


def _lfs(root):
    good_run(root, "lfs", "lfs1")
    write(root, "runs/lfs/lfs1/artifacts/model.bin",
          f"version https://git-lfs.github.com/spec/v1\noid sha256:{LFS_OID}\nsize 734003200\n")
    write(root, "runs/lfs/lfs1/artifacts/half-pointer.bin", "version https://git-lfs.github.com/spec/v1\noid broken\n")


def _empty(root):
    (root / "runs/empty-folder").mkdir(parents=True)
    write(root, "runs/empty-with-meta/experiment.yaml", "format: sitegen.experiment/1\ntitle: Nothing yet\n")
    (root / "runs/no-run-yaml/r1").mkdir(parents=True)


def _models(root):
    write(root, "models/broken-model/model.yaml", "format: sitegen.model/1\nname: Broken\naliases:\n  champion: 7\n")
    write(root, "models/broken-model/versions/1.yaml", "format: sitegen.model-version/1\nversion: 2\n")
    write(root, "models/broken-model/versions/3.yaml", "format: sitegen.model-version/1\nversion: 3\nstage: gold\n")
    write(root, "models/no-meta/versions/1.yaml", "format: sitegen.model-version/1\nversion: 1\n")
    write(root, "datasets/Bad Name.yaml", "format: sitegen.dataset/1\nname: x\n")
    write(root, "datasets/bad-type.yaml", "format: sitegen.dataset/1\nname: [not, a, string]\n")


LINK = "symbolic link not followed"
BAD_RUN_ID = "is not a valid run id; expected letters, digits"
EXP = "experiments/{}/index.html".format
RUN = "runs/{}/index.html".format

CASES: list[Case] = [
    Case("yaml-syntax", "unclosed flow sequence", _syntax,
         (E("runs/yaml-syntax/r1/run.yaml", 8, 7, "error",
            "invalid YAML: while parsing a flow sequence did not find expected ',' or ']'"),),
         built=(EXP("yaml-syntax"),), absent=(RUN("yaml-syntax/r1"),)),
    Case("yaml-tabs", "tab indentation", _tabs,
         (E("runs/yaml-tabs/r1/run.yaml", 7, 1, "error", "tab character used for indentation"),),
         absent=(RUN("yaml-tabs/r1"),)),
    Case("yaml-duplicate", "duplicate mapping key", _dup,
         (E("runs/yaml-duplicate/r1/run.yaml", 8, 3, "error", "duplicate key 'lr' (first defined on line 7)"),),
         absent=(RUN("yaml-duplicate/r1"),)),
    Case("wrong-types", "wrong value types and an enum", _wrong_types,
         (E("runs/wrong-types/r1/run.yaml", 7, 8, "error", "field 'metrics.auc': expected number or null, got str 'high'"),
          E("runs/wrong-types/r1/run.yaml", 9, 9, "error", "field 'tags.team': expected string or number or boolean "
                                                           "or null, got list ['a', 'b']"),
          E("runs/wrong-types/r2/run.yaml", 3, 9, "error", "field 'status': 'done' is not one of: running, finished"),
          E("runs/wrong-types/r2/run.yaml", 4, 9, "error", "field 'params': expected object, got int 3")),
         absent=(RUN("wrong-types/r1"), RUN("wrong-types/r2"))),
    Case("missing-required", "no id; an empty file; a list at the top", _missing,
         (E("runs/missing-required/r1/run.yaml", 1, 1, "error", "'id' is a required property"),
          E("runs/missing-required/r2/run.yaml", 1, 1, "error", "expected a mapping of fields at the top level, "
                                                                "found an empty file"),
          E("runs/missing-required/r3/run.yaml", 1, 1, "error", "expected a mapping of fields at the top level, "
                                                                "found a list")),
         absent=(RUN("missing-required/r1"), RUN("missing-required/r2"), RUN("missing-required/r3"))),
    Case("format-version", "a newer format version; another kind's format", _format,
         (E("runs/format-version/r1/run.yaml", 1, 9, "error", "format sitegen.run/2 is newer than this sitegen "
                                                              "understands (sitegen.run/1); upgrade sitegen"),
          E("runs/format-version/r2/run.yaml", 1, 9, "error", "field 'format': expected 'sitegen.run/1', got "
                                                              "'sitegen.model/1'")),
         absent=(RUN("format-version/r1"),)),
    Case("id-mismatch", "run id differs from its folder", _id_folder,
         (E("runs/id-mismatch/r1/run.yaml", 2, 5, "error", "field 'id': 'r2' differs from its folder name 'r1'"),),
         absent=(RUN("id-mismatch/r1"), RUN("id-mismatch/r2"))),
    Case("traversal", "'..' and absolute paths in parent, artifacts and provenance", _traversal,
         (E("runs/traversal/r1/run.yaml", 6, 9, "error", "field 'parent': '../../etc/passwd' is not valid; expected "
                                                         "<experiment>/<run-id>"),),
         built=(RUN("traversal/r2"),), absent=(RUN("traversal/r1"),),
         produced="paths in artifacts/provenance are shown as text and never opened"),
    Case("odd-names", "long, dotted, spaced, look-alike, newline names; NUL in values", _odd_names,
         (E("runs/odd-names/" + "r" * 200, 0, 0, "error", BAD_RUN_ID),
          E("runs/odd-names/.hidden", 0, 0, "error", "run folder name '.hidden' " + BAD_RUN_ID),
          E("runs/odd-names/-dash", 0, 0, "error", "run folder name '-dash' " + BAD_RUN_ID),
          E("runs/odd-names/sp ace", 0, 0, "error", "run folder name 'sp ace' " + BAD_RUN_ID),
          E("runs/odd-names/new\nline", 0, 0, "error", "run folder name 'new\\nline' " + BAD_RUN_ID),
          E("runs/odd-names/\u0430bc", 0, 0, "error", "run folder name '\\u0430bc' " + BAD_RUN_ID),
          E("runs/\u0441hurn", 0, 0, "error", "experiment folder name '\\u0441hurn' is not valid"),
          E("runs/UPPER", 0, 0, "error", "experiment folder name 'UPPER' is not valid")),
         built=(RUN("odd-names/odd-ok"), RUN("odd-names/nul"),
                urls.artifact("odd-names", "odd-ok", "n" * 251 + ".svg")),
         absent=(EXP("\u0441hurn"), EXP("UPPER"))),
    Case("nul-byte", "a raw NUL byte in a YAML file", _nul_byte,
         (E("runs/nul-byte/r1/run.yaml", 6, 9, "error", "invalid YAML: character U+0000 is not allowed"),),
         absent=(RUN("nul-byte/r1"),)),
    Case("symlinks", "links out of the source (files, dirs) and link loops", _symlinks,
         (E("datasets/linked.yaml", 0, 0, "warning", LINK),
          E("runs/symlinked-experiment", 0, 0, "warning", LINK),
          E("runs/symlinks/linked-dir", 0, 0, "warning", LINK),
          E("runs/symlinks/linked-file/run.yaml", 0, 0, "error", "run.yaml is a symbolic link; links are never followed"),
          E("runs/symlinks/linked-metrics/metrics.parquet", 0, 0, "warning", LINK),
          *(E(f"runs/symlinks/ok/artifacts/{n}", 0, 0, "warning", LINK)
            for n in ("loop", "outdir", "passwd", "ping", "pong", "secret.txt", "self"))),
         built=(RUN("symlinks/ok"), RUN("symlinks/linked-metrics"), "runs/symlinks/ok/artifacts/real.txt"),
         absent=("runs/symlinks/ok/artifacts/passwd", "runs/symlinks/ok/artifacts/secret.txt",
                 "runs/symlinks/ok/artifacts/outdir/secret.txt", RUN("symlinks/linked-dir"),
                 RUN("symlinks/linked-file"), EXP("symlinked-experiment"), "datasets/linked/index.html",
                 "runs/symlinks/linked-metrics/metrics.csv")),
    Case("alias-bomb", "billion laughs", _alias_bomb,
         (E("runs/alias-bomb/r1/run.yaml", 9, 4, "error", "document expands to more than 1,000,000 values through "
                                                          "aliases"),),
         absent=(RUN("alias-bomb/r1"),)),
    Case("big-yaml", "a 50 MB run.yaml", _big_yaml,
         (E("runs/big-yaml/r1/run.yaml", 0, 0, "error", "metadata files are limited to 10,485,760 bytes"),),
         absent=(RUN("big-yaml/r1"),)),
    Case("sparse-artifact", "a 2 GB sparse artifact", _sparse, (),
         built=(RUN("sparse-artifact/sparse1"),), absent=("runs/sparse-artifact/sparse1/artifacts/weights.bin",),
         produced="listed with its size (2.0 GB), not copied"),
    Case("bad-parquet", "corrupt, truncated, empty, wrong-schema, wrong-type Parquet; torn journal", _parquet,
         (E("runs/bad-parquet/corrupt/metrics.parquet", 0, 0, "error", "cannot read Parquet file: Parquet magic "
                                                                       "bytes not found in footer"),
          E("runs/bad-parquet/truncated/metrics.parquet", 0, 0, "error", "cannot read Parquet file"),
          E("runs/bad-parquet/empty/metrics.parquet", 0, 0, "error", "cannot read Parquet file: Parquet file size "
                                                                     "is 0 bytes"),
          E("runs/bad-parquet/wrong-schema/metrics.parquet", 0, 0, "error", "missing column(s) key, step, value; "
                                                                            "expected key: string"),
          E("runs/bad-parquet/wrong-types/metrics.parquet", 0, 0, "error", "wrong column types"),
          E("runs/bad-parquet/torn-journal/metrics.journal.jsonl", 2, 0, "warning", "skipped journal line: field "
                                                                                    "'step' must be an integer"),
          E("runs/bad-parquet/torn-journal/metrics.journal.jsonl", 4, 0, "warning", "last line is incomplete")),
         built=tuple(RUN(f"bad-parquet/{r}") for r in ("corrupt", "truncated", "empty", "wrong-schema",
                                                       "wrong-types", "torn-journal"))
         + ("runs/bad-parquet/torn-journal/metrics.csv",),
         produced="the run is shown without its metric history (summary values from run.yaml kept)"),
    Case("encoding", "Latin-1, UTF-16 and BOM files", _encoding,
         (E("runs/encoding/latin1/run.yaml", 6, 11, "error", "not UTF-8 text (byte 0xe9)"),
          E("runs/encoding/utf16/run.yaml", 1, 1, "error", "not UTF-8 text (byte 0xff)")),
         built=(RUN("encoding/bom"), RUN("encoding/artifacts")), absent=(RUN("encoding/latin1"),)),
    Case("extreme-numbers", "NaN, inf and 1e308 metrics and params", _extreme_numbers, (),
         built=(RUN("extreme-numbers/numbers1"), "runs/extreme-numbers/numbers1/metrics.csv")),
    Case("many-params", "10,000 params in one run", _many_params, (), built=(RUN("many-params/params1"),)),
    Case("duplicate-ids", "the same run id in two experiments", _duplicate_ids,
         (E("runs/dup-b/same-id/run.yaml", 0, 0, "warning", "run id 'same-id' is also used in dup-a/same-id; refer "
                                                            "to it as <experiment>/<id>"),),
         built=(RUN("dup-a/same-id"), RUN("dup-b/same-id"))),
    Case("lfs", "git LFS pointer files as artifacts", _lfs, (),
         built=(RUN("lfs/lfs1"),), absent=("runs/lfs/lfs1/artifacts/model.bin",),
         produced="listed as stored in git LFS with its real size and oid; not copied"),
    Case("empty", "empty experiments; a run folder with no run.yaml", _empty,
         (E("runs/no-run-yaml/r1", 0, 0, "warning", "folder has no run.yaml, so it is not a run; skipped"),),
         built=(EXP("empty-folder"), EXP("empty-with-meta"), EXP("no-run-yaml"))),
    Case("models", "model and dataset errors", _models,
         (E("datasets/Bad Name.yaml", 0, 0, "error", "dataset file name 'Bad Name.yaml' is not valid"),
          E("datasets/bad-type.yaml", 2, 7, "error", "field 'name': expected string, got list"),
          E("models/broken-model/model.yaml", 4, 13, "error", "field 'aliases.champion': version 7 does not exist"),
          E("models/broken-model/versions/1.yaml", 2, 10, "error", "field 'version': 2 differs from the file name "
                                                                   "'1.yaml'"),
          E("models/broken-model/versions/3.yaml", 3, 8, "error", "field 'stage': 'gold' is not one of"),
          E("models/no-meta/model.yaml", 0, 0, "error", "missing model.yaml")),
         built=("models/broken-model/index.html",),
         absent=("models/no-meta/index.html", "datasets/bad-type/index.html", "models/broken-model/1/index.html")),
]


def make_base(root: Path) -> None:
    """The good part of every corpus source: a config, one good experiment with a run, a model, a dataset."""
    write(root, "sitegen.yaml", "title: Corpus\ncard:\n  required_sections: []\n")
    write(root, "runs/good/experiment.yaml", "format: sitegen.experiment/1\ntitle: Good experiment\n"
                                             "primary_metric: loss\ngoal: min\n")
    good_run(root, "good", "g1", "metrics:\n  loss: 0.25\nparams:\n  lr: 0.1\n")
    write_parquet(root / "runs/good/g1/metrics.parquet", metrics_table(["loss"] * 3, [0, 1, 2], [0.5, 0.3, 0.25]))
    write(root, "models/good-model/model.yaml", "format: sitegen.model/1\nname: Good model\naliases:\n  prod: 1\n")
    write(root, "models/good-model/versions/1.yaml",
          "format: sitegen.model-version/1\nversion: 1\nsource_run: good/g1\n")
    write(root, "datasets/good-data.yaml", "format: sitegen.dataset/1\nname: Good data\n")


def make_corpus(root: Path, cases: list[Case] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    make_base(root)
    for case in CASES if cases is None else cases:
        case.make(root)
    return root
