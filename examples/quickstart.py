"""A first study: tune a noisy function of three hyperparameters with two workers.

Run it with ``python examples/quickstart.py``; the study lands in ``runs/quickstart`` and a second
run of the same command resumes it.
"""

from __future__ import annotations

import logging
import math
import time

import paretune as pt

SPACE = pt.Space(
    {
        "lr": pt.Float(1e-4, 1e-1, log=True, prior=1e-2, confidence="medium"),
        "layers": pt.Integer(1, 6),
        "activation": pt.Categorical(["relu", "gelu", "tanh"]),
        "epochs": pt.Fidelity(1, 27),
    }
)


def evaluate(trial: pt.Trial) -> dict[str, float]:
    """Simulate training: the loss falls with epochs and is lowest near lr=0.01 and 3 layers."""
    config = trial.config
    distance = (math.log10(config["lr"]) + 2.0) ** 2 + 0.1 * (config["layers"] - 3) ** 2
    penalty = {"relu": 0.0, "gelu": -0.05, "tanh": 0.1}[config["activation"]]
    loss = 0.0
    for epoch in range(1, int(trial.fidelity or 1) + 1):
        loss = distance + penalty + 1.0 / epoch + 0.02 * trial.rng.standard_normal()
        trial.report(epoch, {"loss": loss})
    time.sleep(0.01 * (trial.fidelity or 1))
    return {"loss": loss}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    study = pt.run(
        evaluate,
        SPACE,
        objectives=["loss"],
        storage="runs/quickstart",
        max_fidelity_total=600,
        n_workers=2,
        seed=0,
    )
    best = study.best_trial
    if best is not None:
        print(f"best trial {best.id}: loss={best.values['loss']:.4f} with {best.config}")


if __name__ == "__main__":
    main()
