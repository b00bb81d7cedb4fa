"""The training curves that the trainer recorded in a run's metrics.jsonl: the loss per chunk of
steps, the validation loss, and (runs trained with --diagnose) the update:data ratios."""


def _validations(records: list[dict]) -> list[dict]:
    return [record for record in records if "val_loss" in record and record.get("step", 0) > 0]


def loss_curve(records: list[dict]) -> dict[str, list[list]]:
    """{"train": [[step, mean training loss of the chunk ending there], ...],
    "val": [[step, validation loss], ...]}."""
    validations = _validations(records)
    train = [chunk for record in validations for chunk in record.get("loss_chunks", [])]
    return {"train": train, "val": [[record["step"], record["val_loss"]] for record in validations]}


def update_ratios(records: list[dict]) -> dict[str, list] | None:
    """{"step": [...], weight name: [log10 update:data ratio at each step], ...}, or None when
    the run was trained without --diagnose."""
    parts = [record["update_ratios"] for record in _validations(records) if "update_ratios" in record]
    if not parts:
        return None
    return {column: [value for part in parts for value in part[column]] for column in parts[0]}
