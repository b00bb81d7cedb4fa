"""The web page: a small local app over the same library functions as the CLI (`villanueva serve`).

`app.py` builds the FastAPI application (a JSON API and one static page); `requests.py` declares
what each API call accepts, with its limits; `static/` is the page itself, plain HTML, CSS and
JavaScript shipped in the package (no build step, nothing fetched from elsewhere).
"""
