"""End-to-end tests of ``paretune fit``, ``export`` and ``predict`` through a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from .conftest import ADULT_COLUMNS, make_frame, require_data, run_cli

pytestmark = pytest.mark.slow


def _assert_ok(result) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Pareto front" in result.stdout


def test_fit_breast_cancer_then_export_and_predict(tmp_path: Path) -> None:
    run = tmp_path / "run"
    fitted = run_cli("fit", "--dataset", "breast_cancer", "--target", "target",
                     "--objective", "error", "--objective", "latency_ms",
                     "--budget", "4trials", "--max-epochs", "3", "--out", str(run),
                     cwd=tmp_path)  # fmt: skip
    _assert_ok(fitted)
    assert "test error" in fitted.stdout

    exported = run_cli("export", str(run), "--trial", "1", "--out", str(tmp_path / "model"),
                       cwd=tmp_path)  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    model = tmp_path / "model"
    weights = torch.load(model / "weights.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in weights.values())
    metrics = json.loads((model / "metrics.json").read_text())
    assert "error" in metrics["validation"]

    from sklearn.datasets import load_breast_cancer

    rows = load_breast_cancer(as_frame=True).frame.drop(columns="target").head(20)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    predicted = run_cli("predict", str(model), str(tmp_path / "rows.csv"), "--out",
                        str(tmp_path / "out.csv"), cwd=tmp_path)  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr
    table = pd.read_csv(tmp_path / "out.csv")
    assert len(table) == 20
    assert list(table.columns) == ["prediction", "proba_0", "proba_1"]


def test_fit_adult_with_fairness_objective(tmp_path: Path) -> None:
    folder = require_data("adult")
    result = run_cli("fit", str(folder / "adult.data"), "--columns", ADULT_COLUMNS,
                     "--target", "income", "--sensitive", "sex", "--objective", "error",
                     "--objective", "dp_difference", "--budget", "3trials", "--max-epochs", "3",
                     "--out", str(tmp_path / "adult"), cwd=tmp_path)  # fmt: skip
    _assert_ok(result)
    assert "dp_differe" in result.stdout


def test_fit_mnist_images_with_cnn(tmp_path: Path) -> None:
    folder = require_data("mnist_t10k")
    result = run_cli("fit", str(folder), "--family", "cnn", "--budget", "2trials",
                     "--max-epochs", "2", "--out", str(tmp_path / "mnist"),
                     cwd=tmp_path)  # fmt: skip
    _assert_ok(result)
    assert "cnn" in result.stdout


BAD_INPUTS = [
    ("missing file", ["absent.csv", "--target", "label"], "not found"),
    ("unknown target", ["data.csv", "--target", "income"], "Unknown target column 'income'"),
    ("unknown sensitive", ["data.csv", "--target", "label", "--sensitive", "sex"],
     "Unknown sensitive column 'sex'"),
    ("one class", ["one.csv", "--target", "label"], "has one class"),
    ("unknown objective", ["data.csv", "--target", "label", "--objective", "speed"],
     "Unknown objective 'speed'"),
    ("bad budget", ["data.csv", "--target", "label", "--budget", "lots"], "invalid budget"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], message: str):
    make_frame().to_csv(tmp_path / "data.csv", index=False)
    make_frame().assign(label="yes").to_csv(tmp_path / "one.csv", index=False)
    result = run_cli("fit", *args, "--out", str(tmp_path / "run"), cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "run").exists()
