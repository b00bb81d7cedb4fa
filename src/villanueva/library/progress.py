"""The progress bar given to the trainer (its on_progress callback): the trainer only reports steps.
`tqdm.auto` draws it as a widget in Jupyter and as text on a terminal."""

from tqdm.auto import tqdm


class ProgressBar:
    """A tqdm bar per training run (reproduce trains several in a row); nothing when disabled."""

    def __init__(self, enabled: bool = True):
        self.enabled, self.bar = enabled, None

    def __call__(self, step: int, steps: int, record: dict | None) -> None:
        if not self.enabled:
            return
        if self.bar is None or self.bar.total != steps or step < self.bar.n:  # a new run began
            self.close()
            self.bar = tqdm(total=steps, initial=step, unit="step", leave=False, dynamic_ncols=True)
        self.bar.update(step - self.bar.n)
        if record is not None:
            self.bar.set_postfix(train=f"{record['train_loss']:.4f}", val=f"{record['val_loss']:.4f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
