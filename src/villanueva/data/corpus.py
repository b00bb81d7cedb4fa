"""Read a list of names from the embedded dataset, a text file or a CSV column.

A Corpus keeps the cleaned names in source order (duplicates included, as the notebooks did, so
that the seed-compatible split sees the same list) and, when the source has them, a label per name
(the province or the community, for the embedded dataset; a column, for a CSV).
"""

import csv
import errno
import io
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from villanueva.data.clean import clean_name
from villanueva.data.embedded import EMBEDDED, read_embedded
from villanueva.data.labels import Labelling, LabelSet
from villanueva.errors import UserError, parameter, quoted

MAX_NAME_LENGTH = 200  # characters of a cleaned name: longer is text, not a name
# Lines of names typed or piped in (score --file, sample --exclude): bounds far above any list of
# names (the 8,133 municipalities are 130 KB), reached at once by a stream that is not one.
MAX_LINE_BYTES = 4096
MAX_INPUT_BYTES = 100 * 10**6
CSV_DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Corpus:
    names: list[str]
    source: str
    labels: list[str] | None = None
    labelling: Labelling = Labelling()  # the groups the labels form, and their other names

    def label_set(self, kind: str, train_labels: list[str]) -> LabelSet:
        """The labels a run conditioned on this corpus learns, counted on its training names."""
        return LabelSet.from_labels(kind, self.labels, train_labels, self.labelling)

    def __len__(self) -> int:
        return len(self.names)


def load_corpus(
    path: str | None = None,
    column: str | None = None,
    keep_accents: bool = False,
    label: str | None = None,
    group: str | None = None,
) -> Corpus:
    """Load and clean names: the embedded municipalities when `path` is None, else a file.

    A `column` makes the file a CSV; otherwise it holds one name per line (makemore's format).
    `label` chooses each name's label: for the embedded list, province or community; for a CSV,
    the column that holds them, and `group` the column that groups those labels (a country's
    continent). Without it the embedded list keeps its provinces as labels, which a run ignores.
    """
    labelling = Labelling()
    if path is None:
        if column is not None:
            raise UserError(
                f"{parameter('column')} needs {parameter('data')}: "
                "the embedded list has no columns to choose from"
            )
        raws, labels, labelling = read_embedded(label)
        source = EMBEDDED
    else:
        text = _read_text(Path(path))
        if column is None and Path(path).suffix.lower() in (".csv", ".tsv"):
            raise UserError(
                f"{path} is a table: choose the column of names with {parameter('column')} "
                f"(columns: {_listed(_csv_header(text, path))})"
            )
        if column is None:
            if label is not None:
                raise UserError(
                    f"{parameter('label_column')} needs a CSV file "
                    f"({parameter('data')} FILE.csv {parameter('column')} NAMES)"
                )
            raws, labels = text.splitlines(), None
        else:
            raws, labels, labelling = _csv_columns(text, column, label, group, path)
        source = str(path)
    return replace(_cleaned(raws, labels, source, keep_accents), labelling=labelling)


def read_name_lines(path: str, what: str = "names file") -> list[str]:
    """The non-blank lines of a text file of names, one per line, as typed ("-": standard input);
    a missing, unreadable, non-UTF-8 or empty file is a UserError naming `what` it was given as.
    It is read a line at a time, with a bound on a line and on the whole, so that a stream that is
    not a list of names (/dev/zero, /dev/urandom) is refused at once instead of filling memory."""
    if path == "-":
        if sys.stdin is None:
            raise UserError(f"the {what} is standard input, which is closed")
        lines = _bounded_lines(sys.stdin.buffer, "standard input")
    else:
        _require_file(Path(path))
        try:
            with open(path, "rb") as stream:
                lines = _bounded_lines(stream, path)
        except OSError as error:
            raise UserError(f"cannot read {path}: {error.strerror}") from None
    if not lines:
        raise UserError(f"the {what} {path} holds no names (it is empty)")
    return lines


def _bounded_lines(stream, source) -> list[str]:
    lines, total = [], 0
    for number, raw in enumerate(iter(lambda: stream.readline(MAX_LINE_BYTES + 1), b""), 1):
        total += len(raw)
        if len(raw) > MAX_LINE_BYTES:
            raise UserError(
                f"line {number:,} of {source} is longer than {MAX_LINE_BYTES:,} bytes; "
                "a names file holds one name per line"
            )
        if total > MAX_INPUT_BYTES:
            raise UserError(f"{source} holds more than {MAX_INPUT_BYTES // 10**6:,} MB of names; split it")
        line = _decoded(raw, f"line {number:,} of {source}").strip()
        if line:
            lines.append(line)
    return lines


def _cleaned(raws: list[str], labels: list[str] | None, source: str, keep_accents: bool) -> Corpus:
    kept = [(clean_name(raw, keep_accents), i) for i, raw in enumerate(raws)]
    kept = [(name, i) for name, i in kept if name]
    if not kept:
        raise UserError(f"{source} holds no names (it is empty, or nothing is left after cleaning)")
    too_long = [name for name, _ in kept if len(name) > MAX_NAME_LENGTH]
    if too_long:
        raise UserError(
            f"{source}: {len(too_long):,} names are longer than {MAX_NAME_LENGTH} characters (the longest "
            f"has {max(map(len, too_long)):,}); a names file holds one name per line"
        )
    names = [name for name, _ in kept]
    kept_labels = [labels[i] for _, i in kept] if labels is not None else None
    return Corpus(names, source, kept_labels)


def _read_text(path: Path) -> str:
    _require_file(path)
    try:
        return _decoded(path.read_bytes(), path)
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def _require_file(path: Path) -> None:
    try:  # exists() itself raises for some paths (a name too long for the file system)
        if not path.exists():
            raise UserError(
                f"{path} is a symlink loop"
                if path.is_symlink() and _loops(path)
                else f"data file not found: {path}"
            )
        if not path.is_file():
            raise UserError(f"data path is not a file: {path}")
    except OSError as error:
        raise UserError(f"cannot read {path}: {error.strerror}") from None


def _loops(path: Path) -> bool:
    try:
        path.resolve(strict=True)
    except RuntimeError:  # Python 3.11-3.12 report a loop so; 3.13 raises OSError (ELOOP)
        return True
    except OSError as error:
        return error.errno == errno.ELOOP
    return False


def _decoded(data: bytes, source) -> str:
    try:
        return data.decode("utf-8-sig")  # -sig: tolerate the BOM spreadsheets write
    except UnicodeDecodeError as error:
        raise UserError(
            f"{source} is not UTF-8 text (bad byte at offset {error.start}); save it as UTF-8 and try again"
        ) from None


def _rows(text: str):
    """csv rows of `text`, split by the delimiter its header uses (comma, semicolon, tab or bar)."""
    header = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(header, delimiters=CSV_DELIMITERS)
        delimiter = dialect.delimiter
    except csv.Error:  # one column, or nothing to tell by
        delimiter = ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _csv_header(text: str, path: str | Path) -> list[str]:
    try:  # the header row can be unreadable too (a field over csv's size limit)
        return next(_rows(text), [])
    except csv.Error as error:
        raise UserError(f"{path} is not a readable CSV file: {error}") from None


def _csv_columns(
    text: str, column: str, label_column: str | None, group_column: str | None, path: str | Path
) -> tuple[list[str], list[str] | None, Labelling]:
    """The names of `column` and, if asked for, the labels of `label_column`, row by row, with the
    groups of `group_column` they form."""
    try:
        rows = _rows(text)
        header = next(rows, None)
        if header is None:
            raise UserError(f"{path} is empty")
        for wanted in (column, label_column, group_column):
            if wanted is not None and wanted not in header:
                raise UserError(f"{path} has no column {wanted!r} (columns: {_listed(header)})")
            if wanted is not None and header.count(wanted) > 1:
                raise UserError(
                    f"{path} has {header.count(wanted)} columns named {wanted!r}; rename all but one"
                )
        index, rows = header.index(column), list(_full_rows(rows, len(header), path))
        if label_column is None:
            return [row[index] for _, row in rows], None, Labelling()
        names, labels = _labelled(rows, index, header.index(label_column), label_column, path)
        if group_column is None:
            return names, labels, Labelling()
        groups = _labelled(rows, index, header.index(group_column), group_column, path)[1]
        return names, labels, _grouping(labels, groups, [line for line, _ in rows], group_column, path)
    except csv.Error as error:
        raise UserError(f"{path} is not a readable CSV file: {error}") from None


def _grouping(labels: list[str], groups: list[str], lines: list[int], group_column: str, path) -> Labelling:
    """The groups the labels form; a label given two groups is a UserError naming both lines."""
    group_of: dict[str, tuple[str, int]] = {}
    for label, group, line in zip(labels, groups, lines):
        first, first_line = group_of.setdefault(label, (group, line))
        if first != group:
            raise UserError(
                f"{path}: {quoted(label)} is in {group_column} {quoted(first)} on line {first_line} "
                f"and {quoted(group)} on line {line}; each label belongs to one group"
            )
    members: dict[str, list[str]] = {}
    for label, (group, _) in sorted(group_of.items()):
        members.setdefault(group, []).append(label)
    return Labelling(group_column, dict(sorted(members.items())))


def _full_rows(reader, width: int, path):
    """(line, row) of each row after the header, blank lines skipped. A row with another number of
    fields than the header, or a field that runs over lines, is a UserError naming its line: both
    are what a quote left open or a separator too many does, and taking such rows would mangle or
    drop names."""
    for row in reader:
        if not any(field.strip() for field in row):
            continue
        if any("\n" in field or "\r" in field for field in row):
            raise UserError(
                f"{path}, line {reader.line_num}: a field runs over several lines (a quote left open?)"
            )
        if len(row) != width:
            raise UserError(
                f"{path}, line {reader.line_num}: {len(row)} fields where the header has {width} "
                "(a quote left open, or a separator too many or too few?)"
            )
        yield reader.line_num, row


def _labelled(rows, index: int, label_index: int, label_column: str, path) -> tuple[list[str], list[str]]:
    names, labels = [], []
    for line, row in rows:
        label = row[label_index].strip()
        if not label and row[index].strip():
            raise UserError(f"{path}, line {line}: {quoted(row[index])} has no {label_column}")
        names.append(row[index])
        labels.append(" ".join(label.split()))
    return names, labels


def _listed(header: list[str], most: int = 12, width: int = 40) -> str:
    """Column names for an error message, kept to a readable line whatever the header holds."""
    shown = [name if len(name) <= width else name[: width - 3] + "..." for name in header[:most]]
    return ", ".join(shown) + (f" and {len(header) - most} more" if len(header) > most else "")
