"""The layout holds: each stage imports only earlier ones, nothing outside the models package asks
a model what kind it is, and every command's module stays small."""

import ast
from pathlib import Path

import pytest

import villanueva
from villanueva.cli.commands import COMMANDS

PACKAGE = Path(villanueva.__file__).parent
# The flow, first to last; a module may import its own stage and earlier ones only.
STAGES = [
    "errors",
    "machine",
    "signals",
    "schema",
    "data",
    "models",
    "training",
    "bundled",
    "runs",
    "inference",
    "diagnostics",
    "experiment",
    "reproduce",
    "tune",
    "report",
    "library",
    "faker",
    "web",
    "cli",
]
OUTSIDE_THE_FLOW = {"__init__", "__main__"}  # the package's face and its entry point
# Stages that must not import an earlier one all the same: inference runs saved models, on an
# install that may lack what trains them.
KEPT_APART = {"inference": {"training"}}
# The kinds and what only one kind has; `max_length` is part of the interface every model answers.
KIND_NAMES = {"WindowModel", "WholeNameModel", "block_size", "empty_cache"}
# Asking a tensor its number of dimensions outside models/ is asking a batch which kind made it
# (targets (N,) or (N, T)); only parameters, named `p` or `weight`, may be (matrices against biases).
SHAPE_QUESTIONS = {"dim", "ndim"}


def stage_of(module: str) -> int:
    """The stage of a module (villanueva.x.y or x.y); one in no stage fails, so a new top-level
    module cannot slip past the checks below."""
    top = "__init__" if module == "villanueva" else module.removeprefix("villanueva.").split(".")[0]
    if top in OUTSIDE_THE_FLOW:
        return -1
    assert top in STAGES, f"villanueva.{top} is in no stage: add it to STAGES where it belongs in the flow"
    return STAGES.index(top)


def sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("villanueva"):
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.startswith("villanueva")]
    return names


@pytest.mark.parametrize("path", sources(), ids=module_name)
def test_no_stage_imports_a_later_one(path):
    own = stage_of(module_name(path))
    if own < 0:
        return
    later = [name for name in imported(path) if stage_of(name) > own]
    assert not later, f"{module_name(path)} ({STAGES[own]}) imports later stages: {later}"


@pytest.mark.parametrize("path", sources(), ids=module_name)
def test_stages_kept_apart_do_not_import_each_other(path):
    stage = module_name(path).split(".")[0]
    forbidden = KEPT_APART.get(stage, set())
    imports = [name for name in imported(path) if name.removeprefix("villanueva.").split(".")[0] in forbidden]
    assert not imports, f"{module_name(path)} imports {imports}, which {stage} must not"


def test_the_kind_names_exist():
    """A name the next test looks for that the models no longer define would guard nothing."""
    defined = set()
    for path in (PACKAGE / "models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                defined.add(node.name)
    assert KIND_NAMES <= defined, f"not defined in models/: {KIND_NAMES - defined}"


@pytest.mark.parametrize(
    "path", [p for p in sources() if module_name(p).split(".")[0] != "models"], ids=module_name
)
def test_only_the_models_package_knows_model_kinds(path):
    tree = ast.parse(path.read_text())
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} - {"block_size"}
    used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    # Strings too (getattr(model, "block_size")), but not "block_size" as the name of a model's
    # option, which the CLI and tune's search spaces spell as any other option.
    used |= {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    } - {"block_size"}
    assert not used & KIND_NAMES, f"{module_name(path)} looks at model kinds: {used & KIND_NAMES}"


@pytest.mark.parametrize(
    "path", [p for p in sources() if module_name(p).split(".")[0] != "models"], ids=module_name
)
def test_no_kind_is_told_by_a_tensor_shape_outside_the_models(path):
    asked = [
        f"{ast.unparse(node.value)}.{node.attr} (line {node.lineno})"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in SHAPE_QUESTIONS
        and not (isinstance(node.value, ast.Name) and node.value.id in {"p", "weight"})
    ]
    assert not asked, f"{module_name(path)} tells a batch's kind by its shape: {asked}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.__name__)
def test_command_modules_stay_small(command):
    assert len(Path(command.__file__).read_text().splitlines()) <= 150
