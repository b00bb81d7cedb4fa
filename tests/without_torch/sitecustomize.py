"""Makes this interpreter an install without the [train] extra: importing torch, matplotlib or
onnx fails as it does where they are not installed. tests/test_light_install.py puts this folder
on PYTHONPATH of the processes it starts, so that the full install checks the light one too."""

import importlib.abc
import sys

TRAIN_ONLY = ("torch", "matplotlib", "onnx")


class _NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in TRAIN_ONLY:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _NotInstalled())
