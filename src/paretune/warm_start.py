"""Warm start from past results: import finished trials from a CSV file into a study.

The CSV has one row per finished evaluation. Parameter columns are named after the parameter
(``lr``) or with the prefix of ``Study.to_dataframe`` (``params.lr``); metric columns after the
objective or constraint (``error``) or with the prefix ``values.``. Optional columns:
``fidelity`` (or the Fidelity's name; default: the maximum), ``cost`` and ``status`` (only
COMPLETED rows are imported when it is present). An empty cell leaves a parameter out, as for
an inactive conditional parameter. Every row is validated before anything is written, and all
rows are written in one transaction, so a bad file imports nothing.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paretune._errors import ParetuneError, SpaceError
from paretune.space import Categorical, Fidelity, Float, Integer
from paretune.study import Study
from paretune.trial import TrialRecord, TrialStatus

logger = logging.getLogger(__name__)


def import_trials(study: Study, path: str | Path) -> list[int]:
    """Write each row of the CSV at ``path`` as a COMPLETED trial; return the new trial ids.

    Imported trials carry ``system_attrs={"imported": True}`` and count as observations for
    every optimizer; optimizers never repeat their configurations.

    Raises:
        ParetuneError: for an unreadable file, or rows with unknown values, missing objectives
            or non-finite objective values (each bad row is listed).

    Example:
        >>> import_trials(study, "past_results.csv")  # doctest: +SKIP
        [1, 2, 3]
    """
    rows = _read_rows(Path(path))
    records, problems = [], []
    for line, row in enumerate(rows, start=2):
        if row.get("status", "COMPLETED").strip().upper() not in ("", "COMPLETED"):
            continue
        try:
            records.append(_record(study, row))
        except (SpaceError, ValueError) as error:
            problems.append(f"line {line}: {error}")
    if problems:
        shown = "\n  - ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ParetuneError(
            f"cannot import {str(path)!r}; nothing was imported:\n  - {shown}{more}"
        )
    ids = _write(study, records)
    logger.info("imported %d trial(s) from %s", len(ids), path)
    return ids


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as handle:
            return [dict(row) for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ParetuneError(f"cannot read CSV file {str(path)!r}: {error}") from error


def _cell(row: Mapping[str, str], name: str, prefix: str) -> str | None:
    for key in (f"{prefix}{name}", name):
        value = row.get(key)
        if value is not None and value.strip() != "":
            return value.strip()
    return None


def _record(study: Study, row: Mapping[str, str]) -> TrialRecord:
    space = study.space
    config: dict[str, Any] = {}
    for name in space.hyperparameter_names:
        text = _cell(row, name, "params.")
        if text is not None:
            config[name] = _parse_value(space.parameters[name], text)
    config = space.validate_config(config)
    values = _metrics(study, row)
    fidelity = _fidelity(study, row)
    cost = _cell(row, "cost", "")
    return TrialRecord(
        id=0,
        config=config,
        fidelity=fidelity,
        status=TrialStatus.COMPLETED,
        values=values,
        cost=float(cost) if cost is not None else None,
        fidelity_spent=float(fidelity) if fidelity is not None else None,
        system_attrs={"imported": True},
    )


def _parse_value(parameter: Any, text: str) -> Any:
    if isinstance(parameter, Integer):
        return int(float(text))
    if isinstance(parameter, Float):
        return float(text)
    if isinstance(parameter, Categorical):
        for choice in parameter.choices:
            if str(choice) == text:
                return choice
        raise ValueError(f"{text!r} is not a choice of {parameter.choices!r}")
    return text


def _metrics(study: Study, row: Mapping[str, str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for objective in study.objectives:
        text = _cell(row, objective.name, "values.")
        if text is None:
            raise ValueError(f"missing value of objective {objective.name!r}")
        value = float(text)
        if not math.isfinite(value):
            raise ValueError(f"objective {objective.name!r} is not finite: {text!r}")
        values[objective.name] = value
    for constraint in study.constraints:
        text = _cell(row, constraint.name, "values.")
        if text is not None:
            values[constraint.name] = float(text)
    return values


def _fidelity(study: Study, row: Mapping[str, str]) -> int | float | None:
    fidelity = study.space.fidelity
    if fidelity is None:
        return None
    name = study.space.fidelity_name or "fidelity"
    text = _cell(row, "fidelity", "") or _cell(row, name, "params.")
    if text is None:
        return fidelity.high
    return _parse_fidelity(fidelity, text)


def _parse_fidelity(fidelity: Fidelity, text: str) -> int | float:
    value = float(text)
    coerced = fidelity.coerce(int(value) if fidelity.is_integer and value.is_integer() else value)
    if not isinstance(coerced, int | float):
        raise ValueError(f"invalid fidelity {text!r}")
    return coerced


def _write(study: Study, records: list[TrialRecord]) -> list[int]:
    ids = []
    now = time.time()
    storage = study.storage
    with storage.transaction() as db:
        for record in records:
            record.created_at = record.finished_at = now
            trial_id = storage.insert_trial(db, record)
            storage.update_trial(
                db,
                trial_id,
                status=TrialStatus.COMPLETED,
                metric_values=record.values,
                cost=record.cost,
                fidelity_spent=record.fidelity_spent,
                finished_at=now,
            )
            ids.append(trial_id)
    study.sync()
    return ids
