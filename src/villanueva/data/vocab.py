"""Characters <-> integer ids. Id 0 is `.`, the token that both starts and ends every name."""

import json
from dataclasses import dataclass
from functools import cached_property

from villanueva.errors import UserError, quoted

END = "."


@dataclass(frozen=True)
class Vocab:
    chars: tuple[str, ...]  # chars[0] is END, the rest sorted

    @classmethod
    def from_names(cls, names: list[str]) -> "Vocab":
        symbols = set("".join(names))
        if END in symbols:
            raise ValueError(f"names must not contain the end token {END!r}; clean them first")
        return cls((END, *sorted(symbols)))

    def __len__(self) -> int:
        return len(self.chars)

    @cached_property
    def index(self) -> dict[str, int]:
        return {ch: i for i, ch in enumerate(self.chars)}

    def encode(self, text: str, what: str | None = None) -> list[int]:
        """The ids of `text`'s characters; one outside the vocabulary is a UserError that names the
        text as `what` says it (default: the text quoted)."""
        index = self.index
        unknown = sorted({ch for ch in text if ch not in index})
        if unknown:
            subject, known = what or quoted(text), f"this model's vocabulary ({''.join(self.chars[1:])!r})"
            if set(text) == set(unknown):  # "'7' contains '7'" would say the text twice
                raise UserError(f"{subject} is not in {known}")
            raise UserError(f"{subject} contains {', '.join(map(repr, unknown))}, not in {known}")
        return [index[ch] for ch in text]

    def decode(self, ids) -> str:
        return "".join(map(self.chars.__getitem__, ids))

    def to_json(self) -> str:
        return json.dumps({"chars": list(self.chars)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Vocab":
        chars = json.loads(text)["chars"]
        if not chars or chars[0] != END or len(set(chars)) != len(chars):
            raise ValueError("not a villanueva vocabulary")
        return cls(tuple(chars))
