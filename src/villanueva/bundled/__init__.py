"""The bundled model: one trained run shipped inside the package, so that `sample`, `score` and
`guess` work right after installing, with no training. It is an ordinary run directory; its
config.json records the command that built it (BUILD_COMMAND), which rebuilds it bit for bit on
the machine described there."""

from pathlib import Path

BUNDLED_RUN = Path(__file__).resolve().parent / "municipios-province"
BUILD_COMMAND = (
    "villanueva train --preset regions --condition province --keep-accents --threads 2 --quiet "
    "--out src/villanueva/bundled/municipios-province"
)
