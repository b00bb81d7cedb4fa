"""The FastAPI application: the page, and a JSON API over the same library functions as the CLI.

    GET  /                       the page (static/index.html)
    GET  /api/runs               every run served: model, settings, losses, loss curve, labels, plots
    GET  /api/options            each request's fields: default, range, help (the page's limits)
    GET  /api/runs/{i}/plots/{f} one of a run's diagnostic plots (PNG)
    POST /api/sample             names, under constraints (inference.on_demand.sample_run)
    POST /api/score              names' losses, explained or not (inference.on_demand.score_run)
    POST /api/guess              names' likeliest labels (inference.guess_run)

A mistake in a request is a 4xx whose JSON body is {"error": "<one line>"} (naming the request's
fields; a mistake in a request's fields also has "message", the same naming them as the page labels
them, `requests.spoken`; so has a shortfall, "shortfall_message"): 422 for a request
outside the declared limits (requests.py), 400 for what only the library can judge (an unknown
label, a character outside the vocabulary), 404 for an unknown run or plot. The runs are read once,
at start, in eval mode; a request changes nothing they hold.

Each run's model is run by one thread, its scheduler (inference/batching.py): the routes hand it
their work and await the answer, so the event loop keeps taking requests. Concurrent sampling
requests are decoded together, one model call per step for all of them, each keeping its own seed
(its names are those it would get alone) and stopped at its time limit; the names of concurrent
scoring and guessing requests are read together too, in one model call per pass, on a second
thread beside the steps. A request whose client disconnects is cancelled (measured:
benchmarks/serve_load.py).
"""

import asyncio
from concurrent.futures import Future
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from villanueva import __version__
from villanueva.data.spelling import Writing
from villanueva.errors import UserError, worded
from villanueva.inference import Constraints, Drawing, SampleReport, guess_run
from villanueva.inference.batching import Scheduler
from villanueva.inference.graphs import run_steps
from villanueva.inference.guess import Guessing
from villanueva.inference.guidance import guided
from villanueva.inference.on_demand import (
    SURPRISING,
    Sampling,
    Scoring,
    Style,
    described,
    run_sampler,
    score_run,
)
from villanueva.runs import Run
from villanueva.web.describe import PLOTS, describe
from villanueva.web.requests import GuessRequest, SampleRequest, ScoreRequest, built, limits, spoken

STATIC = Path(str(resources.files("villanueva.web").joinpath("static")))
DISCONNECT_CHECK = 0.05  # seconds between two checks that a waiting request's client is still there


def create_app(runs: list[Run]) -> FastAPI:
    # No /docs or /redoc: FastAPI's pages for them load their scripts from a CDN. The schema is
    # served as it is, at /openapi.json.
    steps = [run_steps(run) for run in runs]
    schedulers = [
        Scheduler(model_steps, partial(described, run, model_steps, known=run.names, losses=True))
        for run, model_steps in zip(runs, steps)
    ]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for scheduler in schedulers:
            scheduler.close()

    app = FastAPI(
        title="villanueva",
        version=__version__,
        description="Invent, score and place names.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    summaries = [describe(run, index) for index, run in enumerate(runs)]

    def chosen(index: int) -> Run:
        if index >= len(runs):
            raise HTTPException(404, f"unknown run {index}: this server has runs 0 to {len(runs) - 1}")
        return runs[index]

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0]
        path = [str(part) for part in first["loc"][1:]] if first["type"] != "json_invalid" else []
        where = ".".join(path) or "body"
        said = spoken(path[0]) if path else "the request"
        return JSONResponse(
            {"error": f"{where}: {first['msg']}", "message": f"{said}: {first['msg']}"}, status_code=422
        )

    @app.exception_handler(UserError)
    def refused(request: Request, error: UserError) -> JSONResponse:
        return JSONResponse({"error": error.worded(str), "message": error.worded(spoken)}, status_code=400)

    # Starlette's own: an unknown path (404), another method (405), a body it cannot parse (400).
    # FastAPI's HTTPException, raised here, is one of them.
    @app.exception_handler(StarletteHTTPException)
    def not_found(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": str(error.detail)}, status_code=error.status_code, headers=error.headers
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:  # browsers ask for it whatever the page's <link rel=icon> says
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/api/runs")
    def list_runs() -> list[dict]:
        return summaries

    @app.get("/api/runs/{index}/plots/{name}")
    def plot(index: int, name: str) -> FileResponse:
        run = chosen(index)
        if name not in summaries[index]["plots"]:  # only the files listed: no path leaves the run
            raise HTTPException(404, f"run {index} has no plot {name!r}")
        return FileResponse(run.path / PLOTS / name, media_type="image/png")

    @app.get("/api/options")
    def request_options() -> dict:
        return {**limits(), "surprising": SURPRISING}

    @app.post("/api/sample")
    # The answers are JSON already: returned as responses, they skip FastAPI's encoder, which walks
    # every value again in Python (16 clients sampling: 173 to 186 requests/s in one ad-hoc run).
    async def sample(asked: SampleRequest, request: Request) -> JSONResponse:
        run, report = chosen(asked.run), SampleReport()
        groups = [built(cls, asked) for cls in (Sampling, Style, Constraints, Drawing)]
        sampler = run_sampler(run, steps[asked.run], *groups, report=report)  # a mistake is refused here
        scheduler, drawing = schedulers[asked.run], groups[-1]
        if drawing.style_strength == 1:
            work = scheduler.sample(sampler, asked.time_limit)
        else:  # guided: two rows a name, which the run's scheduler does not decode
            work = scheduler.sample_alone(
                guided(steps[asked.run], drawing.style_strength), sampler, asked.time_limit
            )
        names = await answered(request, work)
        return JSONResponse(
            {
                "names": [name.to_json() for name in built(Writing, asked).applied(names)],
                "asked": report.asked,
                "candidates": report.candidates,
                "complete": report.complete,
                "shortfall": None if report.complete else worded(report.shortfall(), str),
                "shortfall_message": None if report.complete else worded(report.shortfall(), spoken),
            }
        )

    @app.post("/api/score")
    async def score(asked: ScoreRequest, request: Request) -> JSONResponse:
        run = chosen(asked.run)
        work = schedulers[asked.run].read(
            partial(score_run, run, asked.names, built(Style, asked), built(Scoring, asked))
        )
        scored = built(Writing, asked).applied(await answered(request, work))
        return JSONResponse({"names": [name.to_json() for name in scored]})

    @app.post("/api/guess")
    async def guess(asked: GuessRequest, request: Request) -> JSONResponse:
        run = chosen(asked.run)
        work = schedulers[asked.run].read(partial(guess_run, run, asked.names, built(Guessing, asked)))
        guesses = built(Writing, asked).applied(await answered(request, work))
        return JSONResponse({"names": [guess.to_json() for guess in guesses]})

    app.mount("/", StaticFiles(directory=STATIC, html=True), name="page")
    return app


async def answered(request: Request, work: Future):
    """The result of `work`, awaited without holding the event loop; if the client disconnects
    first, the work is cancelled (a scheduler drops it) and the request ends unanswered."""
    waiting = asyncio.wrap_future(work)  # cancelling it cancels `work`
    while not (await asyncio.wait([waiting], timeout=DISCONNECT_CHECK))[0]:
        if await request.is_disconnected():
            waiting.cancel()
            raise HTTPException(499, "the client disconnected")
    return waiting.result()
