"""Options declared once (villanueva.schema): each group checks its values where it is built, by
keyword only, and the command line's flags are generated from the same declarations."""

import argparse

import pytest

from villanueva.cli.commands import build_parser
from villanueva.data import DataOptions
from villanueva.errors import UserError, flag
from villanueva.inference import Constraints, Drawing
from villanueva.inference.guess import Guessing
from villanueva.inference.on_demand import Sampling, Scoring, Style
from villanueva.schema import options
from villanueva.training import TrainConfig

GROUPS = [Sampling, Style, Drawing, Constraints, Scoring, Guessing, DataOptions, TrainConfig]
COMMAND_OF = {
    Sampling: "sample",
    Style: "sample",
    Drawing: "sample",
    Constraints: "sample",
    Scoring: "score",
    Guessing: "guess",
    DataOptions: "train",
    TrainConfig: "train",
}


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_groups_are_built_by_keyword_only(group):
    with pytest.raises(TypeError):
        group(1)


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_a_value_of_the_wrong_type_is_refused_naming_its_parameter(group):
    for f in options(group):
        wrong = "text" if f.type not in (str, str | None, tuple[str, ...]) else 3
        with pytest.raises(UserError, match=f"`{f.name}` must be"):
            group(**{f.name: wrong})


@pytest.mark.parametrize("group", GROUPS, ids=lambda group: group.__name__)
def test_every_option_is_a_flag_of_its_command(group):
    parser = build_parser()
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    command = commands.choices[COMMAND_OF[group]]
    flags = {text for action in command._actions for text in action.option_strings}
    assert {flag(f.name) for f in options(group)} <= flags


def test_ranges_are_checked_and_worded_with_their_bounds():
    with pytest.raises(UserError, match=r"`top_p` must be greater than 0 and at most 1, got 1\.5"):
        Drawing(top_p=1.5)
    with pytest.raises(UserError, match=r"`seed` must be at least 0 and less than 2\*\*63"):
        Sampling(seed=-1)
    with pytest.raises(UserError, match="`condition` must be one of province, community"):
        DataOptions(condition="planet")
    assert Constraints(contains="ll").contains == ("ll",)  # one text for a list of texts
    assert Drawing(temperature=2).temperature == 2.0 and isinstance(Drawing(temperature=2).temperature, float)
