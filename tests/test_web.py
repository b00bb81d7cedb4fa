"""The web page and its API: every call with FastAPI's TestClient (good and bad requests, never a
500), and the page itself in a real headless Chromium, driven by Playwright."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install 'villanueva[web]'")

from fastapi.testclient import TestClient  # noqa: E402

from villanueva.inference import Constraints, Drawing  # noqa: E402
from villanueva.inference.guess import Guessing  # noqa: E402
from villanueva.inference.on_demand import SURPRISING, Sampling, Style  # noqa: E402
from villanueva.runs import load_run  # noqa: E402
from villanueva.schema import options as options_of  # noqa: E402
from villanueva.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def runs(tiny_run):
    return [load_run(None), load_run(tiny_run)]


@pytest.fixture(scope="module")
def client(runs):
    return TestClient(create_app(runs), raise_server_exceptions=False)


# --- the API -----------------------------------------------------------------------------------


def test_runs_describe_the_models(client):
    runs = client.get("/api/runs").json()
    bundled, tiny = runs
    assert bundled["name"] == "bundled model" and bundled["model"] == "gru"
    assert len(bundled["labels"]["names"]) == 52 and "Galicia" in bundled["labels"]["groups"]
    assert bundled["losses"]["val"] < bundled["marginal"]["val"]
    steps = load_run().record.settings.train.steps  # the steps its epochs came to
    assert len(bundled["curve"]) >= 20 and bundled["curve"][-1]["step"] == steps
    assert tiny["labels"] is None and tiny["model"] == "mlp"


def test_sample_meets_the_constraints_and_is_repeatable(client):
    request = {
        "count": 10,
        "seed": 3,
        "label": "Girona",
        "starts_with": "Sant",
        "min_length": 8,
        "new_only": True,
    }
    answer = client.post("/api/sample", json=request).json()
    assert answer["complete"] and answer["asked"] == 10 and len(answer["names"]) == 10
    for name in answer["names"]:
        assert name["name"].startswith("sant") and len(name["name"]) >= 8
        assert name["label"] == "Girona" and not name["known"] and name["loss"] > 0
    assert client.post("/api/sample", json=request).json()["names"] == answer["names"]


def test_a_spent_budget_is_an_answer_not_an_error(client):
    answer = client.post("/api/sample", json={"count": 5, "contains": ["qqq"], "budget": 200}).json()
    assert not answer["complete"] and answer["candidates"] == 200 and "contains 'qqq'" in answer["shortfall"]


def test_a_time_limit_answers_with_the_names_found_and_says_why(client):
    # A constraint no name meets, with the largest budget: about 18 s of work, stopped at 0.3 s.
    started = time.monotonic()
    answer = client.post(
        "/api/sample", json={"count": 5, "contains": ["qqq"], "budget": 100_000, "time_limit": 0.3}
    ).json()
    assert time.monotonic() - started < 5
    assert not answer["complete"] and answer["names"] == [] and answer["candidates"] < 100_000
    assert "the time limit of 0.3 s; raise it with time_limit" in answer["shortfall"]
    assert "contains 'qqq'" in answer["shortfall"]


def test_score_explains_and_guess_places(client):
    scored = client.post("/api/score", json={"names": ["Villanueva de la Serena"], "explain": True}).json()
    name = scored["names"][0]
    assert name["known"] and len(name["surprisals"]) == len("villanueva de la serena") + 1
    assert sum(name["surprisals"]) / 24 == pytest.approx(name["loss"])
    guessed = client.post("/api/guess", json={"names": ["Zugarramurdi"], "by": "community", "top": 2}).json()
    labels = guessed["names"][0]["labels"]
    assert len(labels) == 2 and labels[0]["label"] in {"País Vasco", "Comunidad Foral de Navarra"}
    assert labels[0]["probability"] >= labels[1]["probability"]


BAD_REQUESTS = {
    "too many names": ("/api/sample", {"count": 1001}, 422),
    "a name too long": ("/api/score", {"names": ["a" * 101]}, 422),
    "too many names to score": ("/api/score", {"names": ["ana"] * 1001}, 422),
    "no names": ("/api/score", {"names": []}, 422),
    "a misspelt field": ("/api/sample", {"cuont": 3}, 422),
    "a wrong type": ("/api/sample", {"count": "many"}, 422),
    "a number as a text": ("/api/sample", {"count": "3"}, 422),
    "a flag as a text": ("/api/score", {"names": ["ana"], "explain": "yes"}, 422),
    "a budget too large": ("/api/sample", {"budget": 10**9}, 422),
    "a time limit too long": ("/api/sample", {"time_limit": 31}, 422),
    "no time at all": ("/api/sample", {"time_limit": 0}, 422),
    "min above max": ("/api/sample", {"min_length": 9, "max_length": 3}, 400),
    "an unknown label": ("/api/sample", {"label": "Atlantis"}, 400),
    "a label for an unconditioned run": ("/api/sample", {"run": 1, "label": "Girona"}, 400),
    "a character outside the vocabulary": ("/api/score", {"names": ["x!?"], "explain": True}, 400),
    "a name that cleans to nothing": ("/api/score", {"names": ["()"]}, 400),
    "guessing with an unconditioned run": ("/api/guess", {"run": 1, "names": ["toro"]}, 400),
    "an unknown grouping": ("/api/guess", {"names": ["toro"], "by": "planet"}, 400),
    "an unknown run": ("/api/sample", {"run": 7}, 404),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_a_bad_request_is_a_4xx_with_one_line(client, case):
    path, body, status = BAD_REQUESTS[case]
    response = client.post(path, json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error and "\n" not in error and "Traceback" not in error


def body(content: bytes) -> dict:
    return {"content": content, "headers": {"Content-Type": "application/json"}}


FRAMEWORK_REFUSALS = {  # what FastAPI and Starlette answer themselves, before any handler of ours
    "an unknown path": ("get", "/api/nowhere", {}, 404),
    "another method": ("put", "/api/sample", {}, 405),
    "JSON nested 100,000 deep": ("post", "/api/sample", body(b"[" * 100_000), 400),
    "a 5,000-digit integer": ("post", "/api/sample", body(b'{"count": ' + b"9" * 5000 + b"}"), 400),
    "a string for a number": ("post", "/api/sample", {"json": {"count": "3"}}, 422),
    "a string for a boolean": ("post", "/api/score", {"json": {"names": ["toro"], "explain": "yes"}}, 422),
}


@pytest.mark.parametrize("case", FRAMEWORK_REFUSALS, ids=list(FRAMEWORK_REFUSALS))
def test_the_frameworks_own_refusals_answer_with_error_too(client, case):
    method, path, request, status = FRAMEWORK_REFUSALS[case]
    response = getattr(client, method)(path, **request)
    assert response.status_code == status, response.text
    assert list(response.json()) == ["error"] and "\n" not in response.json()["error"]


def test_the_options_are_the_libraries_declarations_with_the_servers_caps(client):
    options = client.get("/api/options").json()
    sample, guess = options["sample"], options["guess"]
    assert sample["temperature"]["default"] == Drawing().temperature
    assert sample["temperature"]["exclusiveMinimum"] == 0 and sample["temperature"]["maximum"] == 10
    assert sample["min_length"]["default"] == Constraints().min_length
    assert sample["count"]["default"] == Sampling().count and sample["count"]["maximum"] == 1000
    assert sample["budget"]["default"] == 20_000  # the server's own, bounding a request's time
    assert guess["top"]["default"] == Guessing().top
    assert sample["temperature"]["description"] == options_of(Drawing)[0].metadata["help"]
    assert options["surprising"] == SURPRISING
    # Every option of the sampling groups is a field of the request, and nothing else is.
    declared = {f.name for group in (Sampling, Style, Drawing, Constraints) for f in options_of(group)}
    assert set(sample) == declared | {"run", "time_limit"}
    assert sample["time_limit"]["default"] == 5 and sample["time_limit"]["maximum"] == 30


def test_errors_name_the_request_fields(client):
    error = client.post("/api/sample", json={"min_length": 9, "max_length": 3}).json()["error"]
    assert error == "min_length 9 is more than max_length 3"


def test_broken_json_unknown_plots_and_the_schema(client):
    broken = client.post("/api/sample", content=b"{nope", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"].startswith("body")
    assert client.get("/api/runs/0/plots/../../config.json").status_code == 404
    assert client.get("/api/runs/0/plots/loss.png").status_code == 404
    assert client.get("/docs").status_code == 404  # FastAPI's docs page would load a CDN's scripts
    schema = client.get("/openapi.json").json()
    assert {"/api/sample", "/api/score", "/api/guess", "/api/runs"} <= set(schema["paths"])


def test_the_page_and_its_assets_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>villanueva" in page.text
    for asset in ("style.css", "app.js"):
        assert client.get(f"/{asset}").status_code == 200
    everything = page.text + client.get("/app.js").text + client.get("/style.css").text
    assert "http://" not in everything and "https://" not in everything  # nothing from elsewhere


def test_concurrent_requests_give_what_each_would_alone(client):
    from concurrent.futures import ThreadPoolExecutor

    # Decoded together (inference/batching.py), with different settings each, and a hard one beside.
    settings = [
        {},
        {"label": "Girona", "starts_with": "sant"},
        {"temperature": 1.5, "top_k": 5},
        {"top_p": 0.8, "ends_with": "a", "min_length": 6},
        {"new_only": True, "label": "Galicia"},
        {"contains": ["qqq"], "budget": 3_000},
    ]
    requests = [{"count": 5 + seed, "seed": seed, **settings[seed % len(settings)]} for seed in range(12)]
    alone = [client.post("/api/sample", json=r).json()["names"] for r in requests]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda r: client.post("/api/sample", json=r).json()["names"], requests))
    # These runs are torch's, whose float32 products round by the shape of the batch: the losses,
    # scored beside other requests' names, agree to float32's precision (tests/test_batching.py).
    for names, expected in zip(together, alone):
        assert [{**n, "loss": pytest.approx(n["loss"], rel=1e-6)} for n in expected] == names


def test_a_client_that_goes_away_cancels_its_work():
    import asyncio
    from concurrent.futures import Future

    from fastapi import HTTPException

    from villanueva.web.app import answered

    class Gone:  # a request whose client has disconnected
        async def is_disconnected(self):
            return True

    work = Future()  # never answered: only the cancellation ends the wait
    with pytest.raises(HTTPException) as refused:
        asyncio.run(answered(Gone(), work))
    assert refused.value.status_code == 499 and work.cancelled()


def test_serve_refuses_a_bad_run_at_start(cli, tmp_path):
    result = cli("serve", str(tmp_path / "missing"))
    assert result.code == 2 and "not found" in result.err and len(result.err.splitlines()) == 1


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("", "would listen on every interface"),
        ("garbage..host", "not an address"),
        ("999.1.1.1", "not an address"),
    ],
)
def test_serve_refuses_a_host_it_cannot_or_should_not_listen_on(cli, host, expected):
    result = cli("serve", "--host", host, "--port", "8765")
    assert result.code == 2 and expected in result.err and len(result.err.splitlines()) == 1
    assert result.out == ""  # refused before anything is served or announced


# --- the page in a browser ---------------------------------------------------------------------

CHROMIUM = next(
    (path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(path).exists()), None
)
CHROMIUM = os.environ.get("VILLANUEVA_CHROMIUM", CHROMIUM or shutil.which("chromium") or "")
BROWSER_FLAGS = [  # a closed network: no background connections, no sandbox as root
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server(runs):
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    served = uvicorn.Server(
        uvicorn.Config(create_app(runs), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    for _ in range(200):
        if served.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    served.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM:
        pytest.skip("no Chromium found (apt-get install chromium, or set VILLANUEVA_CHROMIUM)")
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=BROWSER_FLAGS)
        yield launched
        launched.close()


def screenshots(tmp_path) -> Path:
    """Where the screenshots go: VILLANUEVA_SCREENSHOTS (docs/screenshots, to update the docs), else tmp."""
    return Path(os.environ.get("VILLANUEVA_SCREENSHOTS", tmp_path))


def test_the_page_generates_filters_by_label_and_guesses(browser, server, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside = []
    page.on(
        "request", lambda request: outside.append(request.url) if not request.url.startswith(server) else None
    )
    page.goto(server)
    page.wait_for_selector("#facts dd")
    assert "gru" in page.inner_text("#facts")
    page.select_option("#label", "Girona")
    count = page.locator("input[name=count]")
    assert count.get_attribute("max") == "1000" and count.input_value() == "20"  # from /api/options
    assert page.locator("input[name=temperature]").input_value() == "1"
    page.fill("input[name=count]", "12")
    page.fill("input[name=seed]", "4")
    page.click("#generate-button")
    page.wait_for_function("document.querySelectorAll('#names li').length === 12")
    assert all(text.endswith("Girona") for text in page.locator("#names .meta").all_inner_texts())
    page.click("#more")
    page.wait_for_function("document.querySelectorAll('#names li').length === 24")
    # Keyboard only: type a name and press Enter.
    page.focus("#guess-name")
    page.keyboard.type("Vilanova de Bellpuig")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chart .row")
    rows = page.locator("#chart .row")
    assert rows.count() == Guessing().top  # the API's default: the page repeats no limit of its own
    assert page.locator("#explained .char").count() == len("vilanova de bellpuig") + 1
    first = rows.nth(0).inner_text()
    assert any(province in first for province in ("Lleida", "Girona", "Barcelona", "Tarragona")), first
    page.screenshot(path=str(screenshots(tmp_path) / "page.png"), full_page=True)
    page.select_option("#by", "community")
    page.click("#guess-form button")
    page.wait_for_function("document.querySelector('#chart .row span').textContent === 'Cataluña'")
    assert not outside, outside


def test_the_page_shows_errors_and_fits_a_phone(browser, server, tmp_path):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(server)
    page.wait_for_selector("#facts dd")
    page.fill("input[name=min_length]", "30")
    page.fill("input[name=max_length]", "10")
    page.click("#generate-button")
    page.wait_for_selector("#generate-error:not([hidden])")
    assert "min_length 30 is more than max_length 10" in page.inner_text("#generate-error")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    page.fill("input[name=min_length]", "1")
    page.fill("input[name=max_length]", "100")
    page.click("#generate-button")
    page.wait_for_function("document.querySelectorAll('#names li').length === 20")
    page.screenshot(path=str(screenshots(tmp_path) / "phone.png"), full_page=True)
