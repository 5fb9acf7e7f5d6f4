"""The experiment page: which params the run table shows as columns and which as shared by every run."""

from pathlib import Path

from sitegen.model import Run
from sitegen.pages.experiment import param_columns


def _run(i: int, **params) -> Run:
    return Run(experiment="e", id=f"r{i}", name=f"r{i}", status="finished", file=f"runs/e/r{i}/run.yaml",
               directory=Path("."), params_flat=params)


def test_param_columns_split_varying_from_shared_params():
    runs = [_run(1, lr=0.1, opt="sgd", seed=1, layers=[1, 2], flag=True),
            _run(2, lr=0.1, opt="adam", seed=1, layers=[1, 2], flag=True),
            _run(3, lr=0.1, opt="sgd", layers=[1, 2], flag=True)]
    varying, shared = param_columns(runs)
    assert varying == ["opt", "seed"]  # seed: one run lacks it
    assert shared == {"flag": "true", "layers": "[1, 2]", "lr": "0.1"}


def test_param_columns_compare_values_as_shown():
    runs = [_run(1, x=None), _run(2, x=None), _run(3, y=1)]
    varying, shared = param_columns(runs)
    assert varying == ["x", "y"] and shared == {}
    assert param_columns([_run(1, x=None), _run(2, x=None)]) == ([], {"x": "null"})
    assert param_columns([]) == ([], {})
