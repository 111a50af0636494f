"""Serve the YAHPO Gym LCBench surrogate over stdin/stdout, one JSON request per line.

yahpo-gym needs ConfigSpace<=0.6.1 and numpy<2, which the benchmark environment cannot hold,
so this runs in its own environment (``.venv-yahpo``) and ``lcbench.py`` talks to it. A request
is ``{"task": "3945", "configs": [{...}, ...]}`` where each configuration includes ``epoch``;
the reply is the list of validation errors, 1 - val_accuracy / 100.

    .venv-yahpo/bin/python benchmarks/optimizers/lcbench_surrogate.py DATA_FOLDER
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import warnings


def main() -> None:
    warnings.simplefilter("ignore")
    from yahpo_gym import benchmark_set, local_config

    # yahpo-gym looks for DATA_PATH/lcbench, so link the given folder under that name.
    root = tempfile.mkdtemp(prefix="yahpo-")
    os.symlink(os.path.abspath(sys.argv[1]), os.path.join(root, "lcbench"))
    local_config.init_config()
    local_config.set_data_path(root)
    benches: dict[str, object] = {}
    for line in sys.stdin:
        request = json.loads(line)
        task = request["task"]
        configs = [dict(c, OpenML_task_id=task) for c in request["configs"]]
        # yahpo-gym prints citation notes to stdout, which is the reply channel here.
        with contextlib.redirect_stdout(sys.stderr):
            if task not in benches:
                benches[task] = benchmark_set.BenchmarkSet("lcbench", instance=task, check=False)
            results = benches[task].objective_function(configs)
        print(json.dumps([1.0 - r["val_accuracy"] / 100.0 for r in results]), flush=True)


if __name__ == "__main__":
    main()
