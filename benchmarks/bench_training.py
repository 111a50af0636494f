"""Benchmark the built-in training pipeline.

1. Throughput of ``Trainer`` against a plain hand-written PyTorch loop for the same model, data,
   optimizer and batch size, in one process, with the peak resident memory of the process.
2. Test error of the default configuration at full fidelity on digits, breast_cancer, mnist1d and
   UCI Adult, next to scikit-learn's HistGradientBoostingClassifier and LogisticRegression on the
   same stratified split.

Run: ``.venv/bin/python benchmarks/bench_training.py [--adult PATH] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.compose import make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from paretune.pipelines.data import ADULT_COLUMNS, Dataset, DatasetSpec, load_dataset
from paretune.pipelines.evaluation import prepare_inputs
from paretune.pipelines.models import attach_generator, build_model
from paretune.pipelines.search_space import DEFAULT_MAX_EPOCHS, default_config
from paretune.pipelines.training import (
    Trainer,
    TrainingSettings,
    build_optimizer,
    predict_probabilities,
)

THROUGHPUT_EPOCHS = 10
THROUGHPUT_ROUNDS = 5


def plain_loop_seconds(dataset: Dataset, config: dict[str, object], epochs: int) -> float:
    """Time a hand-written loop: shuffle, forward, cross-entropy, backward, AdamW step."""
    inputs = prepare_inputs(dataset, config)
    labels = torch.from_numpy(dataset.labels[dataset.splits.train])
    generator = torch.Generator().manual_seed(0)
    model = build_model(inputs.model_spec, config, generator)
    attach_generator(model, generator)
    optimizer = build_optimizer(model, TrainingSettings.from_config(config))
    batch = int(config["batch_size"])  # type: ignore[call-overload]
    start = time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=generator)
        for step in range(len(labels) // batch):
            rows = order[step * batch : (step + 1) * batch]
            loss = F.cross_entropy(model(inputs.train[rows]), labels[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    return time.perf_counter() - start


def trainer_seconds(dataset: Dataset, config: dict[str, object], epochs: int) -> float:
    """Time the same epochs with ``Trainer`` (schedule, generator dropout, loss bookkeeping)."""
    inputs = prepare_inputs(dataset, config)
    labels = torch.from_numpy(dataset.labels[dataset.splits.train])
    model = build_model(inputs.model_spec, config, torch.Generator().manual_seed(0))
    trainer = Trainer(model, TrainingSettings.from_config(config), inputs.train, labels,
                      max_epochs=DEFAULT_MAX_EPOCHS, seed=0)  # fmt: skip
    start = time.perf_counter()
    for _ in range(epochs):
        trainer.train_epoch()
    return time.perf_counter() - start


def throughput_report(dataset: Dataset) -> str:
    config = default_config(dataset.kind)
    rows = len(dataset.splits.train) // int(config["batch_size"]) * int(config["batch_size"])
    plain, ours = [], []
    for _ in range(THROUGHPUT_ROUNDS):  # alternate, keep the best of each
        plain.append(plain_loop_seconds(dataset, config, THROUGHPUT_EPOCHS))
        ours.append(trainer_seconds(dataset, config, THROUGHPUT_EPOCHS))
    samples = rows * THROUGHPUT_EPOCHS
    plain_rate, our_rate = samples / min(plain), samples / min(ours)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"| {dataset.fingerprint['source']} | {plain_rate:,.0f} | {our_rate:,.0f} | "
        f"{our_rate / plain_rate:.3f} | {peak_mb:,.0f} |"
    )


def default_test_error(dataset: Dataset) -> tuple[float, float]:
    """Train the default configuration to full fidelity; return test error and seconds."""
    config = default_config(dataset.kind)
    start = time.perf_counter()
    inputs = prepare_inputs(dataset, config)
    labels = torch.from_numpy(dataset.labels[dataset.splits.train])
    model = build_model(inputs.model_spec, config, torch.Generator().manual_seed(0))
    trainer = Trainer(model, TrainingSettings.from_config(config), inputs.train, labels,
                      max_epochs=DEFAULT_MAX_EPOCHS, seed=0)  # fmt: skip
    while trainer.epoch < DEFAULT_MAX_EPOCHS:
        trainer.train_epoch()
    probabilities = predict_probabilities(trainer.final_model(), inputs.test)
    error = float(np.mean(probabilities.argmax(axis=1) != dataset.labels[dataset.splits.test]))
    return error, time.perf_counter() - start


def sklearn_test_errors(dataset: Dataset) -> tuple[float, float]:
    """Test errors of HistGradientBoostingClassifier and LogisticRegression on the same split."""
    frame = dataset.features
    numeric = [c for c in frame.columns if frame[c].dtype.kind in "fiub"]  # type: ignore[union-attr]
    categorical = [c for c in frame.columns if c not in numeric]  # type: ignore[union-attr]
    train, test = dataset.splits.train, dataset.splits.test
    train = np.concatenate([train, dataset.splits.validation])
    boosted = make_pipeline(
        make_column_transformer(
            (OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical),
            remainder="passthrough",
        ),
        HistGradientBoostingClassifier(
            categorical_features=list(range(len(categorical))), random_state=0
        ),
    )
    linear = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (OneHotEncoder(handle_unknown="ignore"), categorical),
        ),
        LogisticRegression(max_iter=2000),
    )
    errors = []
    for model in (boosted, linear):
        model.fit(dataset.rows(train), dataset.labels[train])
        predictions = model.predict(dataset.rows(test))
        errors.append(float(np.mean(predictions != dataset.labels[test])))
    return errors[0], errors[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adult", type=Path, default=Path("../shared/data/adult/adult.data"))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    specs = [DatasetSpec("digits"), DatasetSpec("breast_cancer"), DatasetSpec("mnist1d")]
    if args.adult.exists():
        specs.append(DatasetSpec(str(args.adult), target="income", columns=tuple(ADULT_COLUMNS)))
    datasets = [load_dataset(spec) for spec in specs]

    print("| dataset | plain loop samples/s | Trainer samples/s | ratio | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for dataset in datasets:
        print(throughput_report(dataset))

    print()
    print("| dataset | default config test error | train s | HistGradientBoosting | "
          "LogisticRegression |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for dataset in datasets:
        error, seconds = default_test_error(dataset)
        boosted, linear = sklearn_test_errors(dataset)
        name = Path(str(dataset.fingerprint["source"])).name
        print(f"| {name} | {error:.4f} | {seconds:.1f} | {boosted:.4f} | {linear:.4f} |")


if __name__ == "__main__":
    main()
