"""`villanueva serve [RUN...]`: the web page, on this machine (needs the `web` extra)."""

from pathlib import Path

from villanueva.cli.options import add_device_option


def add(commands):
    parser = commands.add_parser(
        "serve",
        help="a web page to generate, filter, guess and explain names (no RUN: the bundled model)",
        description="Serve the page and its JSON API (its OpenAPI schema at /openapi.json). Needs: "
        "pip install 'villanueva[web]'.",
    )
    parser.set_defaults(command=run)
    parser.add_argument(
        "runs", type=Path, nargs="*", metavar="RUN", help="run directories (default: the bundled model)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    add_device_option(parser)
    return parser


def check_address(host: str, port: int) -> None:
    """Refuse an address the server could not listen on, or one that means more than it says ('' is
    every interface to uvicorn), before the runs are read and anything is printed."""
    import socket

    from villanueva.errors import UserError

    if not host.strip():
        raise UserError("--host is empty, which would listen on every interface; give 0.0.0.0 to mean that")
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (OSError, UnicodeError) as error:
        raise UserError(f"--host {host!r} is not an address this machine can listen on ({error})") from None
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's own socket does
        try:
            probe.bind(address)
        except OSError as error:
            raise UserError(f"cannot listen on {host}:{port} ({error.strerror})") from None


def run(args) -> int:
    from villanueva.errors import UserError
    from villanueva.runs import open_run

    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, got {args.port}")
    check_address(args.host, args.port)
    try:
        import uvicorn

        from villanueva.web.app import create_app
    except ImportError as error:
        raise UserError(
            f"serve needs the web extra ({error.name} is missing): pip install 'villanueva[web]'"
        ) from None
    # A bad run is refused here, at start.
    runs = [open_run(path, args.device) for path in args.runs or [None]]
    print(f"villanueva: serving {len(runs)} run(s) at http://{args.host}:{args.port}", flush=True)
    try:
        uvicorn.run(create_app(runs), host=args.host, port=args.port, log_level="warning")
    except (OSError, SystemExit) as error:  # uvicorn exits when it cannot bind the port
        raise UserError(f"cannot listen on {args.host}:{args.port} ({error})") from None
    return 0
