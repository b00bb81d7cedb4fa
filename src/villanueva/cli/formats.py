"""Writing records (sampled or scored names) to stdout as text, CSV or JSON, as they come, so that
a long list streams out in bounded memory."""

import csv
import json
import sys
from collections.abc import Callable

FORMATS = ("txt", "csv", "json")


def add_format_option(parser, what: str, row: str = "one row per name") -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="txt",
        help=f"txt (default): {what}; csv: a header, then {row}; json: one array of objects",
    )


class RecordWriter:
    """Text lines from `line(record)`, CSV rows of the records' JSON fields `columns` (a list
    becomes its items joined by spaces), or one JSON array of the records' JSON objects."""

    def __init__(self, format: str, columns: list[str], line: Callable[[object], str]):
        self.format, self.columns, self.line = format, columns, line
        self.csv = csv.writer(sys.stdout, lineterminator="\n") if format == "csv" else None
        self.written = 0
        self.headed = False

    def _header(self) -> None:
        if self.csv is not None and not self.headed:
            self.csv.writerow(self.columns)
        self.headed = True

    def write(self, records) -> None:
        # Nothing is written before the first records (or close), so that an error found while
        # they are computed (an unknown label, say) comes before any output.
        self._header()
        for record in records:
            if self.format == "txt":
                print(self.line(record))
            elif self.csv is not None:
                data = record.to_json()
                self.csv.writerow([_cell(data.get(column)) for column in self.columns])
            else:
                separator = "[\n" if not self.written else ",\n"
                sys.stdout.write(
                    separator + json.dumps(record.to_json(), ensure_ascii=False, allow_nan=False)
                )
            self.written += 1

    def close(self) -> None:
        self._header()
        if self.format == "json":
            sys.stdout.write(("[" if not self.written else "") + "\n]\n")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return " ".join(f"{item:.3f}" for item in value)
    return "" if value is None else str(value)
