"""Importers: bring runs, experiments and models from other tools into a format-1 store.

- :mod:`sitegen.importers.mlflow`: any MLflow tracking URI, through MLflow's own client.
- :mod:`sitegen.importers.dvc`: a DVC repository (workspace and ``refs/exps`` experiments) or a plain
  DVCLive output folder, read with git commands and the files themselves (no ``dvc`` needed).
- :mod:`sitegen.importers.writing`: what both share: content-compared writes (re-importing rewrites
  nothing that did not change), the metric table, slugs, and the import summary.
"""
