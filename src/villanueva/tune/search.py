"""The search, Optuna's way: processes that run the same study against one database, each drawing
and training its own trials, until the study's trial count or the time is reached. `jobs` starts
them on this machine; a tune on another machine with the same --storage and --study is one more."""

import multiprocessing
import time

import optuna

from villanueva.errors import UserError
from villanueva.machine import use_threads
from villanueva.tune.objective import OutOfTime, objective
from villanueva.tune.study import TuneRequest, open_study


def tune(request: TuneRequest, on_trial=None):
    """Run the search: `request.jobs` processes draw and train trials until the trial count or the
    time is reached (or, with neither, until interrupted). `on_trial(trial)` is called for each
    finished trial, in the process that ran it (a module's function: the others import it).
    Returns the study."""
    study = open_study(request)
    limit = None if request.trials is None else len(study.trials) + request.trials
    deadline = None if request.seconds is None else time.time() + request.seconds
    jobs = request.jobs if request.trials is None else min(request.jobs, request.trials)
    others = [
        multiprocessing.get_context("spawn").Process(
            target=_join, args=(request, worker, limit, deadline, on_trial)
        )
        for worker in range(1, jobs)
    ]
    for process in others:
        process.start()
    try:
        _search(request, study, 0, limit, deadline, on_trial)
    except BaseException:
        for process in others:
            process.terminate()  # SIGTERM: a training saves its checkpoint, its trial is failed
        raise
    finally:
        for process in others:  # they end at the trial count or the timeout as this one does
            process.join()
    return study


def _join(request: TuneRequest, worker: int, limit: int | None, deadline: float | None, on_trial) -> None:
    """One more process of the search (spawned: a fresh interpreter, one thread). SIGTERM from
    the first process, or Ctrl-C, stops its trial as it stops any training: after a checkpoint."""
    from villanueva.training import TrainingInterrupted  # torch: loaded by what trains, not by `--help`

    try:
        _search(request, open_study(request), worker, limit, deadline, on_trial)
    except (TrainingInterrupted, KeyboardInterrupt):
        pass


def _search(request: TuneRequest, study, worker: int, limit: int | None, deadline: float | None, on_trial):
    if request.jobs > 1:
        use_threads(1)  # two trainings on two cores: one thread each
    # Each process and each continuation of the study draws its own sequence, reproducibly.
    study.sampler = optuna.samplers.TPESampler(seed=request.seed + 1000 * len(study.trials) + worker)
    callbacks = [] if on_trial is None else [lambda study, trial: on_trial(trial)]
    if limit is not None:
        if len(study.trials) >= limit:  # the other processes took them all while this one started
            return
        # All states count, running ones too, so that no process starts a trial too many.
        callbacks.append(optuna.study.MaxTrialsCallback(limit, states=None))
    try:
        study.optimize(
            lambda trial: objective(request, trial, deadline),
            timeout=None if deadline is None else deadline - time.time(),
            callbacks=callbacks,
            catch=(UserError,),
        )
    except OutOfTime:
        pass
