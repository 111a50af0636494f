"""The worker process of the local executor: ``python -m paretune.executors._worker FD``.

It receives the pickled evaluation once, then jobs, and sends back reports and outcomes over the
connection whose file descriptor the parent passed. Workers are started with ``subprocess`` rather
than ``multiprocessing`` so that the user's ``__main__`` module is never imported again.
"""

from __future__ import annotations

import os
import pickle
import signal
import socket
import sys
from collections.abc import Mapping
from multiprocessing.connection import Connection

from paretune.executors._base import Evaluate, Job, Report, evaluate_job


def serve(connection: Connection) -> None:
    """Evaluate jobs until the parent sends ``("stop",)`` or closes the connection."""
    message = connection.recv()
    if message[0] != "init":
        raise RuntimeError(f"expected an init message, got {message[0]!r}")
    _, payload, sys_path, worker_id = message
    for entry in reversed(sys_path):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    evaluate: Evaluate = pickle.loads(payload)
    connection.send(("ready", os.getpid()))
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message[0] == "stop":
            return
        job: Job = message[1]

        def report(trial_id: int, step: float, values: Mapping[str, float], job: Job = job) -> None:
            connection.send(("event", Report(trial_id, job.attempt, step, dict(values))))

        connection.send(("event", evaluate_job(evaluate, job, report, worker_id=worker_id)))


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    # The driver owns Ctrl-C: it marks running trials INTERRUPTED and stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(arguments[0]))
    connection = Connection(sock.detach())
    try:
        serve(connection)
    except (BrokenPipeError, ConnectionResetError, EOFError):
        pass
    finally:
        connection.close()


if __name__ == "__main__":
    main()
