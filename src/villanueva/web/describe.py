"""What the page shows of a run: its model and settings, its losses, its loss curve, its labels
and the diagnostic plots it has (written by `villanueva diagnose`)."""

from dataclasses import asdict

from villanueva.bundled import BUNDLED_RUN
from villanueva.runs import Run, read_metrics, read_result
from villanueva.training import changes

PLOTS = "plots"


def describe(run: Run, index: int) -> dict:
    record, result = run.record, read_result(run.path)
    curve = [
        {"step": r["step"], "train": r["train_loss"], "val": r["val_loss"]}
        for r in read_metrics(run.path)
        if "val_loss" in r and r.get("step")
    ]
    labels = run.labels
    return {
        "index": index,
        "name": "bundled model" if run.path == BUNDLED_RUN else run.path.name,
        "model": record.model,
        "model_config": asdict(record.settings.model_config),
        "changed": changes(record.settings) or None,
        "data": record.data.source,
        "names": record.data.names,
        "parameters": result.parameters if result else None,
        "steps": result.steps if result else None,
        "seconds": result.seconds if result else None,
        "losses": result.best if result else None,
        "marginal": result.marginal if result else None,
        "curve": curve,
        "labels": None
        if labels is None
        else {"kind": labels.kind, "names": labels.names, "counts": labels.counts, "groups": labels.groups},
        "plots": sorted(p.name for p in (run.path / PLOTS).glob("*.png")),
        # Whether sampling can weigh the label (a model trained with label dropout: guidance.py).
        "style_strength": labels is not None and _guidable(record),
    }


def _guidable(record) -> bool:
    return getattr(record.settings.model_config, "label_dropout", 0) > 0  # window models have none
