"""Where cells run: in local processes (default) or on a Ray cluster.

Both executors keep at most ``workers`` cells in flight and yield each result as soon as it is
ready, so the runner can write it before the next one finishes. A cell derives all its
randomness from its own seed and runs with one torch thread, so the executor never changes the
numbers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from mibound._checks import InvalidValueError, MissingDependencyError

__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "RayExecutor", "make_executor"]

#: Executor names accepted by :func:`make_executor` and ``mibound bench --executor``.
EXECUTORS: tuple[str, ...] = ("local", "ray")

#: Thread-count variables set to 1 in worker processes (BLAS/OpenMP pools of numpy and torch).
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


class Executor:
    """Runs ``fn(item)`` for many items with at most :attr:`workers` in flight.

    Attributes:
        workers: The number of cells run at once.
        in_flight: The number of cells running now (for progress displays).
        name: ``"local"`` or ``"ray"``.
    """

    name = "executor"

    def __init__(self, workers: int) -> None:
        self.workers = _check_workers(workers)
        self.in_flight = 0

    def imap_unordered(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        on_submit: Callable[[], None] | None = None,
    ) -> Iterator[Any]:
        """Yields ``fn(item)`` for every item, in completion order."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases the workers."""

    def _bounded(
        self,
        items: Iterator[Any],
        submit: Callable[[Any], Any],
        wait_some: Callable[[list[Any]], tuple[Iterable[Any], list[Any]]],
        result: Callable[[Any], Any],
        cancel: Callable[[Any], Any],
        on_submit: Callable[[], None] | None,
    ) -> Iterator[Any]:
        """Keeps at most :attr:`workers` submitted handles pending; yields results as they finish.

        Arguments:
            items: The items still to submit.
            submit: Starts ``fn(item)``; returns a handle (future, object ref).
            wait_some: Blocks until at least one pending handle is done; returns
                ``(done, still pending)``.
            result: The value of a done handle.
            cancel: Cancels a pending handle (when the consumer stops early or a cell fails).
            on_submit: Called after each submission.
        """
        pending: list[Any] = []
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < self.workers:
                    try:
                        item = next(items)
                    except StopIteration:
                        exhausted = True
                        break
                    pending.append(submit(item))
                    self.in_flight = len(pending)
                    if on_submit is not None:
                        on_submit()
                if not pending:
                    return
                done, pending = wait_some(pending)
                self.in_flight = len(pending)
                for handle in done:
                    yield result(handle)
        finally:
            for handle in pending:
                cancel(handle)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_workers(workers: object) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidValueError(f"--workers: expected a positive integer, got {workers!r}")
    return workers


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


class LocalExecutor(Executor):
    """Local worker processes (spawned, one torch thread each); in-process when ``workers == 1``.

    Arguments:
        workers: Processes; default one per CPU core (``os.cpu_count()``).
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        super().__init__(workers if workers is not None else max(1, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None
        self._saved_env: dict[str, str | None] = {}

    def imap_unordered(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        on_submit: Callable[[], None] | None = None,
    ) -> Iterator[Any]:
        items = iter(items)
        if self.workers == 1:
            for item in items:
                self.in_flight = 1
                if on_submit is not None:
                    on_submit()
                out = fn(item)
                self.in_flight = 0
                yield out
            return
        if self._pool is None:
            for var in _THREAD_VARS:  # inherited by the spawned workers
                self._saved_env[var] = os.environ.get(var)
                os.environ[var] = "1"
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
            )
        pool = self._pool

        def wait_some(pending: list[Future]) -> tuple[set[Future], list[Future]]:
            done, not_done = wait(pending, return_when=FIRST_COMPLETED)
            return done, list(not_done)

        yield from self._bounded(
            items,
            lambda item: pool.submit(fn, item),
            wait_some,
            Future.result,
            Future.cancel,
            on_submit,
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        for var, value in self._saved_env.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
        self._saved_env = {}


class RayExecutor(Executor):
    """Ray tasks (one CPU each), on a running cluster (``address``) or a new local instance.

    Arguments:
        workers: Cells in flight; default the cluster's CPU count.
        address: A Ray cluster address (``"auto"``, ``"ray://host:10001"``, ...); None starts a
            local instance with ``workers`` CPUs (or all cores) and shuts it down at the end.
            On a remote cluster, mibound must be installed on every node.

    Raises:
        ImportError: Ray is not installed (``pip install 'mibound[ray]'``).
    """

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise MissingDependencyError(
                "--executor ray needs Ray, which is not installed: pip install 'mibound[ray]' "
                "(or use --executor local)"
            ) from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            env = {var: "1" for var in _THREAD_VARS}
            src = str(Path(__file__).resolve().parents[2])
            path = os.environ.get("PYTHONPATH")
            env["PYTHONPATH"] = src if not path else f"{src}{os.pathsep}{path}"
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "runtime_env": {"env_vars": env},
            }
            if address is None:
                kwargs["num_cpus"] = workers if workers is not None else (os.cpu_count() or 1)
            else:
                kwargs["address"] = address
            ray.init(**kwargs)
            self._started = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        super().__init__(workers if workers is not None else max(1, cpus))

    def imap_unordered(
        self,
        fn: Callable[[Any], Any],
        items: Iterable[Any],
        on_submit: Callable[[], None] | None = None,
    ) -> Iterator[Any]:
        ray = self._ray
        remote = ray.remote(num_cpus=1, max_retries=0)(_ray_call)
        yield from self._bounded(
            iter(items),
            lambda item: remote.remote(fn, item),
            lambda pending: ray.wait(pending, num_returns=1),
            ray.get,
            lambda ref: ray.cancel(ref, force=True),
            on_submit,
        )

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def _ray_call(fn: Callable[[Any], Any], item: Any) -> Any:
    _init_worker()
    return fn(item)


def make_executor(name: str, workers: int | None = None, address: str | None = None) -> Executor:
    """An executor by name.

    Arguments:
        name: ``"local"`` or ``"ray"``.
        workers: Cells in flight (default: one per core, or the Ray cluster's CPUs).
        address: Ray cluster address (``--executor ray`` only).

    Raises:
        ValueError: Unknown name, bad ``workers``, or ``address`` without Ray.
        ImportError: Ray requested but not installed.
    """
    if name not in EXECUTORS:
        raise InvalidValueError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {name!r}")
    if workers is not None:
        _check_workers(workers)
    if name == "local":
        if address is not None:
            raise InvalidValueError("--address: only with --executor ray")
        return LocalExecutor(workers)
    return RayExecutor(workers, address)
