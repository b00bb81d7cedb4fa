"""`villanueva export RUN [--out FILE]`: a run's decoding graph as ONNX, for ONNX Runtime."""

from pathlib import Path

from villanueva.cli.options import BUNDLED_HELP, run_path


def add(commands):
    parser = commands.add_parser(
        "export",
        help="write a run's model as ONNX, for ONNX Runtime (no PyTorch needed to run it)",
        description="Write the run's decoding graph (the step that grows names one character at a "
        "time, and scores them) to RUN/model.onnx, or --out FILE, for ONNX Runtime: the same logits as "
        "PyTorch's within 1e-5. Training writes it already; this is for runs trained before it did, "
        "or for a copy elsewhere. The bundled model ships with its own.",
    )
    parser.set_defaults(command=run, needs_run=False)
    parser.add_argument("run", type=Path, metavar="RUN", nargs="?", help=BUNDLED_HELP)
    parser.add_argument("--run", type=Path, metavar="RUN", dest="run_option", help=BUNDLED_HELP)
    parser.add_argument("--out", type=Path, metavar="FILE", help="where to write (default: RUN/model.onnx)")
    return parser


def run(args) -> int:
    from villanueva.inference.export import export_run

    out = export_run(run_path(args), args.out)
    print(f"wrote {out} ({out.stat().st_size / 1024:,.0f} KB)")
    return 0
