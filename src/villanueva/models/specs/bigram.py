from dataclasses import dataclass

from villanueva.models.spec import ModelSpec
from villanueva.schema import check, setting


@dataclass
class BigramConfig:
    # Far below 1e-10 the smallest probabilities leave float32 and a loss is infinite; far above
    # 1e6 the table is uniform.
    smoothing: float = setting(1.0, "add-k smoothing of the bigram counts", ge=1e-10, le=1e6)

    def __post_init__(self):
        check(self)


SPEC = ModelSpec(
    name="bigram",
    summary="count table: one character predicts the next",
    config=BigramConfig,
    network="bigram:Bigram",
    fast={},  # counted, not trained: the training settings are unused
    notebook={},
    space=None,  # counting has one answer; only the smoothing is left, and add-1 is the notebooks'
)
