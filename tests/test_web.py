"""The web page and its API: every call with FastAPI's TestClient (good and bad requests, never a
500), and the page itself in a real headless Chromium, driven by Playwright."""

import os
import shutil
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install 'villanueva[web]'")

from fastapi.testclient import TestClient  # noqa: E402

from villanueva.data.spelling import Writing  # noqa: E402
from villanueva.inference import Constraints, Drawing  # noqa: E402
from villanueva.inference.guess import Guessing  # noqa: E402
from villanueva.inference.on_demand import SURPRISING, Sampling, Style, sample_run  # noqa: E402
from villanueva.runs import load_run  # noqa: E402
from villanueva.schema import options as options_of  # noqa: E402
from villanueva.web.app import create_app  # noqa: E402

# A PNG of one pixel: a diagnostic plot for the tiny run, so that the page has one to show.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c639865220400024c00e1af56877e0000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def runs(tiny_run, tmp_path_factory):
    tiny = tmp_path_factory.mktemp("served") / "tiny"
    shutil.copytree(tiny_run, tiny)  # the shared run is left as it is
    (tiny / "plots").mkdir(exist_ok=True)
    (tiny / "plots" / "loss.png").write_bytes(PIXEL)
    return [load_run(None), load_run(tiny)]


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
        assert name["name"].startswith("Sant") and len(name["name"]) >= 8  # written as a place is
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


def test_a_style_strength_samples_what_the_library_samples_and_keeps_the_time_limit(client):
    bundled = load_run(None)
    for strength in (0, 2):
        asked = {"count": 8, "label": "Bizkaia", "style_strength": strength, "seed": 4, "raw": True}
        answer = client.post("/api/sample", json=asked).json()
        expected = sample_run(
            bundled,
            Sampling(count=8, seed=4),
            Style(label="Bizkaia"),
            drawing=Drawing(style_strength=strength),
        )
        assert [n["name"] for n in answer["names"]] == [n.name for batch in expected for n in batch]
    assert client.get("/api/runs").json()[0]["style_strength"] is True
    started = time.monotonic()
    impossible = {"count": 5, "contains": ["qqq"], "budget": 100_000, "time_limit": 0.3, "style_strength": 2}
    answer = client.post("/api/sample", json=impossible).json()
    assert time.monotonic() - started < 5 and "the time limit of 0.3 s" in answer["shortfall"]


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
    "a style strength for an unconditioned run": ("/api/sample", {"run": 1, "style_strength": 2}, 400),
    "a style strength too strong": ("/api/sample", {"style_strength": 11}, 422),
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
    answer = response.json()
    assert "error" in answer and set(answer) <= {"error", "message"}  # "message": the page's words
    assert "\n" not in answer["error"]


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
    groups = (Sampling, Style, Drawing, Constraints, Writing)
    declared = {f.name for group in groups for f in options_of(group)}
    assert set(sample) == declared | {"run", "time_limit"}
    assert sample["time_limit"]["default"] == 5 and sample["time_limit"]["maximum"] == 30


def test_errors_name_the_request_fields_and_say_them_as_the_page_labels_them(client):
    answer = client.post("/api/sample", json={"min_length": 9, "max_length": 3}).json()
    assert answer["error"] == "min_length 9 is more than max_length 3"
    assert answer["message"] == "“Shortest” 9 is more than “Longest” 3"  # the page's labels (titles)
    options = client.get("/api/options").json()["sample"]
    assert options["min_length"]["title"] == "Shortest" and options["max_length"]["title"] == "Longest"
    out_of_range = client.post("/api/sample", json={"count": 5000}).json()
    assert out_of_range["message"].startswith("“Names”: ") and out_of_range["error"].startswith("count: ")
    short = client.post("/api/sample", json={"count": 5, "contains": ["qqq"], "budget": 200}).json()
    assert "raise it with “Candidates to try”" in short["shortfall_message"]
    assert "“Contains” 'qqq'" in short["shortfall_message"] and "budget" in short["shortfall"]


def test_the_favicon_is_served(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"


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


@contextmanager
def serving(runs):
    """A real server of `runs` on a free port, in a thread: its address."""
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
def server(runs):
    """The bundled model and a tiny run without labels: the page offers a choice of model."""
    with serving(runs) as address:
        yield address


@pytest.fixture(scope="module")
def plain_server(runs):
    """What plain `villanueva serve` serves: the bundled model alone."""
    with serving(runs[:1]) as address:
        yield address


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


DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def opened(browser, server, query="", **size):
    """A new page of `server` (at `query`), its runs and options read."""
    page = browser.new_page(**(size or DESKTOP))
    page.goto(server + query)
    page.wait_for_selector("#facts dd")
    return page


def names_shown(page) -> list[str]:
    return page.locator("#names .name").all_inner_texts()


def generated(page, expected: int, **fields) -> list[str]:
    """Fill the generate form (opening the more options), press Generate, wait for `expected` names."""
    page.evaluate("document.getElementById('advanced').open = true")
    for name, value in fields.items():
        page.fill(f"[name={name}]", str(value))
    page.click("#generate-button")
    page.wait_for_function(
        f"document.querySelectorAll('#names li').length === {expected}"
        " && !document.getElementById('generate-button').disabled"
    )
    return names_shown(page)


def test_the_page_generates_filters_by_label_and_guesses(browser, server):
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
    generated(page, 12, count=12, seed=4)
    for item in page.locator("#names li").all():  # the style asked for, or "real name" alone
        details = item.locator(".details").inner_text()
        assert details.endswith("Girona") or details.endswith("real name"), details
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
    assert page.inner_text("#guess-loss").endswith("a real name of Lleida")  # its own province
    page.select_option("#by", "community")
    page.click("#guess-form button")
    page.wait_for_function("document.querySelector('#chart .row span').textContent === 'Cataluña'")
    assert not outside, outside


def test_the_style_strength_field_shows_for_a_model_that_can_and_samples_as_the_api(browser, server, client):
    page = opened(browser, server)
    page.evaluate("document.getElementById('advanced').open = true")
    strength = page.locator("input[name=style_strength]")
    assert strength.is_visible() and strength.input_value() == "1" and strength.get_attribute("max") == "10"
    explained = page.locator(".help .needs-guidance")
    assert explained.is_visible() and "Style strength" in explained.inner_text()
    page.select_option("#label", "Bizkaia")
    shown = generated(page, 6, count=6, seed=9, style_strength=2)
    asked = {"count": 6, "seed": 9, "label": "Bizkaia", "style_strength": 2}
    assert shown == [n["name"] for n in client.post("/api/sample", json=asked).json()["names"]]
    page.select_option("#run", "1")
    page.wait_for_function("document.getElementById('facts').textContent.includes('mlp')")
    assert not strength.is_visible() and not explained.is_visible()  # the tiny mlp knows no labels


# --- the faults of the page's first version, one test each (numbered as in the issue) -----------


def test_1_a_run_without_labels_hides_their_fields(browser, server):
    page = opened(browser, server)
    assert page.is_visible("#run-choice") and page.is_visible("#label")
    page.select_option("#run", "1")
    page.wait_for_function("document.getElementById('facts').textContent.includes('mlp')")
    assert not page.is_visible("#label") and not page.is_visible("#by")  # no "Style of", no empty "By"
    page.select_option("#run", "0")
    assert page.is_visible("#label") and page.is_visible("#by")


def test_2_another_model_clears_the_old_models_names_and_explanation(browser, server):
    page = opened(browser, server)
    assert len(generated(page, 5, count=5, seed=1)) == 5
    page.fill("#guess-name", "toro")
    page.press("#guess-name", "Enter")
    page.wait_for_selector("#guess-result:not([hidden])")
    page.select_option("#run", "1")
    assert names_shown(page) == [] and page.is_disabled("#more") and page.is_disabled("#copy")
    assert not page.is_visible("#guess-result") and page.inner_text("#generate-note") == ""
    assert "run=1" in page.url and "seed" not in page.url
    generated(page, 5, count=5)
    page.click("#more")  # More now asks the new model, and the list holds its names only
    page.wait_for_function("document.querySelectorAll('#names li').length === 10")


HOLD_REQUESTS = """() => {
  window.sent = [];
  const real = window.fetch;
  window.fetch = (path, init) => {
    if (!String(path).includes('api/sample')) return real(path, init);
    window.sent.push(JSON.parse(init.body));
    return new Promise((resolve) => { window.release = () => resolve(real(path, init)); });
  };
}"""


def test_3_nothing_sends_a_second_request_while_one_is_in_flight(browser, server):
    page = opened(browser, server)
    generated(page, 5, count=5, seed=2)
    page.evaluate(HOLD_REQUESTS)
    page.select_option("#label", "Girona")
    assert page.is_disabled("#more")  # changed settings: More would repeat the old ones
    page.click("#generate-button")
    page.wait_for_function("window.sent.length === 1")
    assert page.is_disabled("#generate-button") and page.is_disabled("#more")
    page.press("input[name=count]", "Enter")  # a second submit, by the keyboard, is not sent either
    page.evaluate("document.getElementById('more').click()")
    assert page.evaluate("window.sent.length") == 1
    page.evaluate("window.release()")
    page.wait_for_function("!document.getElementById('more').disabled")
    page.click("#more")
    page.wait_for_function("window.sent.length === 2")
    assert page.evaluate("window.sent[1].label") == "Girona"  # More repeats the list's own settings
    page.evaluate("window.release()")
    page.wait_for_function("document.querySelectorAll('#names li').length === 10")
    assert all(
        text.endswith(("Girona", "real name")) for text in page.locator("#names .details").all_inner_texts()
    )


def test_3_a_shortfall_is_a_warning_not_small_print(browser, server):
    page = opened(browser, server)
    page.evaluate("document.getElementById('advanced').open = true")
    page.fill("[name=contains]", "qqq")
    page.fill("[name=budget]", "200")
    page.click("#generate-button")
    page.wait_for_selector("#generate-warning:not([hidden])")
    warning = page.inner_text("#generate-warning")
    assert "found 0 of 20 names in 200 candidates" in warning and "“Candidates to try”" in warning
    assert "--" not in warning and "with budget" not in warning


def test_3_the_time_limit_is_the_apis_and_stops_a_hard_request(browser, server):
    page = opened(browser, server)
    field = httpx.get(server + "api/options").json()["sample"]["time_limit"]
    page.evaluate("document.getElementById('advanced').open = true")
    limit = page.locator("[name=time_limit]")
    assert page.inner_text("label:has([name=time_limit])").strip() == field["title"]
    assert (
        float(limit.input_value()) == field["default"]
        and float(limit.get_attribute("max")) == field["maximum"]
    )
    assert 0 == field["exclusiveMinimum"] < float(limit.get_attribute("min"))  # the API's "more than 0"
    page.fill("[name=contains]", "qqq")  # no name meets it: about 18 s of work
    page.fill("[name=budget]", "100000")
    page.fill("[name=time_limit]", "0.5")
    page.evaluate(HOLD_REQUESTS)
    page.click("#generate-button")
    page.wait_for_function("window.sent.length === 1")
    assert page.evaluate("window.sent[0].time_limit") == 0.5
    page.evaluate("window.release()")
    page.wait_for_selector("#generate-warning:not([hidden])")
    warning = page.inner_text("#generate-warning")
    assert "found 0 of 20 names" in warning and "the time limit of 0.5 s" in warning
    assert f"“{field['title']}”" in warning and "time_limit" not in warning


def test_4_a_submit_the_browser_refuses_leaves_no_old_answer(browser, server):
    page = opened(browser, server)
    generated(page, 5, count=5)
    page.fill("[name=min_length]", "30")
    page.fill("[name=max_length]", "10")
    page.click("#generate-button")
    page.wait_for_selector("#generate-error:not([hidden])")
    page.fill("[name=count]", "5000")  # above the API's maximum: the browser refuses to submit
    page.click("#generate-button")
    page.wait_for_function("document.getElementById('generate-note').textContent.startsWith('Not generated')")
    assert not page.is_visible("#generate-error") and names_shown(page) == []
    assert "“Names”" in page.inner_text("#generate-note")


def test_5_the_list_copies_and_selects_names_only(browser, server):
    context = browser.new_context(**DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector("#facts dd")
    names = generated(page, 30, count=30, seed=5, starts_with="villanueva de la")
    page.click("#copy")
    page.wait_for_function("document.getElementById('generate-note').textContent.startsWith('copied')")
    assert page.evaluate("navigator.clipboard.readText()") == "\n".join(names) + "\n"
    # Without the Clipboard API: a text area of the names, copied by the browser.
    page.evaluate("""() => {
      navigator.clipboard.writeText = () => Promise.reject(new Error('denied'));
      document.execCommand = (command) => { window.copied = document.activeElement.value; return true; };
    }""")
    page.click("#copy")
    assert page.evaluate("window.copied") == "\n".join(names) + "\n"
    # Selecting the list takes the names, not their details; a reader hears them apart.
    selected = page.evaluate("""() => {
      const range = document.createRange();
      range.selectNodeContents(document.getElementById('names'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return getSelection().toString();
    }""")
    assert [line.strip() for line in selected.split("\n") if line.strip()] == names
    assert page.locator("#names li").nth(0).inner_text().startswith(names[0] + ", ")
    # Long entries wrap inside their column, never into the next one.
    overflowing = page.evaluate(
        "[...document.querySelectorAll('#names li')].filter((li) => li.scrollWidth > li.clientWidth).length"
    )
    assert overflowing == 0
    context.close()


def test_6_a_real_name_is_not_paired_with_the_style_asked_for(browser, server):
    page = opened(browser, server)
    page.select_option("#label", "Almería")
    generated(page, 100, count=100, seed=6, temperature=0.6)
    real = page.locator("#names li:has(.badge)")
    assert real.count() > 0  # cool sampling repeats real names
    for item in real.all():
        details = item.locator(".details").inner_text()  # the name itself may be Almería
        assert item.locator(".badge").inner_text() == "real name" and "Almería" not in details


def test_7_messages_use_the_pages_words(browser, server):
    page = opened(browser, server)
    page.evaluate("document.getElementById('advanced').open = true")
    for name, value, expected in (("contains", "7", "“Contains”"), ("min_length", "20", "“Shortest” 20")):
        page.fill(f"[name={name}]", value)
        page.fill("[name=max_length]", "5" if name == "min_length" else "100")
        page.click("#generate-button")
        page.wait_for_selector("#generate-error:not([hidden])")
        error = page.inner_text("#generate-error")
        assert error.startswith(expected) and "--" not in error and "_" not in error, error
        page.fill(f"[name={name}]", "1" if name == "min_length" else "")
    assert page.inner_text("label:has([name=budget])").strip() == "Candidates to try"


def test_8_a_characters_surprisal_shows_on_focus_and_on_tap(browser, server):
    page = opened(browser, server, **PHONE)
    page.fill("#guess-name", "Bellpuig")
    page.press("#guess-name", "Enter")
    page.wait_for_selector("#explained .char")
    page.focus("#explained .char >> nth=0")
    assert page.inner_text("#char-info").startswith("'B': surprisal ")
    page.tap("#explained .char.end")
    assert page.inner_text("#char-info").startswith("the end of the name: surprisal ")


def test_9_the_phone_layout(browser, server):
    page = opened(browser, server, **PHONE)
    button = page.locator("#generate-button").bounding_box()
    assert button["y"] + button["height"] <= 844  # on the first screen
    assert not page.is_visible("[name=temperature]")  # folded under "More options"
    sizes = page.evaluate(
        "[...document.querySelectorAll('#curve text')].map((t) => t.getBoundingClientRect().height)"
    )
    assert sizes and min(sizes) >= 10, sizes  # the curve's labels keep a readable size
    page.fill("#guess-name", "Vilanova de Bellpuig")
    page.press("#guess-name", "Enter")
    page.wait_for_selector("#explained .char")
    # No word is broken across lines: every box of a word has the same top.
    tops = page.evaluate(
        "[...document.querySelectorAll('#explained .word')]"
        ".map((w) => new Set([...w.children].map((c) => c.getBoundingClientRect().top)).size)"
    )
    assert tops == [1, 1, 1], tops
    page.fill("#guess-name", "a" * 100)
    page.press("#guess-name", "Enter")
    page.wait_for_function("document.getElementById('guess-loss').textContent.includes('aaaa')")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def test_9_errors_fit_a_phone(browser, server):
    page = opened(browser, server, **PHONE)
    page.click("#advanced summary")
    page.fill("input[name=min_length]", "30")
    page.fill("input[name=max_length]", "10")
    page.click("#generate-button")
    page.wait_for_selector("#generate-error:not([hidden])")
    assert "“Shortest” 30 is more than “Longest” 10" in page.inner_text("#generate-error")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


def test_10_inside_the_model_explains_and_its_plots_open_full_size(browser, server):
    page = opened(browser, server)
    inside = page.inner_text("#inside")
    assert all(word in inside for word in ("nats", "validation", "test", "held back"))
    assert "--" not in page.inner_text("#facts")  # the changed settings in words, not flags
    page.select_option("#run", "1")
    link = page.locator("#plots figure a").first
    page.wait_for_function(
        "document.querySelector('#plots img') && document.querySelector('#plots img').complete"
    )
    assert (
        link.get_attribute("href") == "api/runs/1/plots/loss.png" and link.get_attribute("target") == "_blank"
    )
    assert page.evaluate("document.querySelector('#plots img').naturalWidth") == 1


def test_11_the_address_keeps_the_settings_and_the_list(browser, server):
    page = opened(browser, server)
    page.select_option("#label", "Girona")
    names = generated(page, 7, count=7, ends_with="a")
    page.click("#more")
    page.wait_for_function("document.querySelectorAll('#names li').length === 14")
    names = names_shown(page)
    assert "seed=" in page.url and "more=1" in page.url and "label=Girona" in page.url
    page.reload()
    page.wait_for_function("document.querySelectorAll('#names li').length === 14")
    assert names_shown(page) == names and page.input_value("#label") == "Girona"
    assert page.input_value("[name=seed]") == ""  # the page chose the seed: Generate still draws anew
    shared = opened(browser, server, page.url[len(server) :])  # a link: the same list elsewhere
    shared.wait_for_function("document.querySelectorAll('#names li').length === 14")
    assert names_shown(shared) == names
    assert "8,133 names" in page.inner_text("#facts")  # one number format
    icons = []
    page.on("response", lambda response: icons.append(response.status) if "favicon" in response.url else None)
    page.reload()
    page.wait_for_function("document.querySelectorAll('#names li').length === 14")
    assert all(status == 200 for status in icons)


def test_the_screenshots_of_plain_serve(browser, plain_server, tmp_path):
    """The README's pictures: what `villanueva serve` shows, on a desktop and on a phone."""
    for size, file in ((DESKTOP, "page.png"), (PHONE, "phone.png")):
        page = opened(browser, plain_server, "?count=12&label=Girona&seed=4&picked=1", **size)
        assert not page.is_visible("#run-choice")  # one model: no choice of model
        page.wait_for_function("document.querySelectorAll('#names li').length === 12")
        page.fill("#guess-name", "Vilanova de Bellpuig")
        page.press("#guess-name", "Enter")
        page.wait_for_selector("#chart .row")
        page.hover("#explained .char >> nth=4")
        page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshots(tmp_path) / file), full_page=True)
