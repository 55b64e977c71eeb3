"""Training features on disk: SQuAD records -> model windows with answer labels, as memory-mapped Arrow files.

Memory stays flat however large the training file is: records stream from the reader, are tokenized a thousand at
a time by the Rust tokenizer, and the labelled windows stream into an Arrow file (`Dataset.from_generator` writes it
in chunks) that the Trainer then reads memory-mapped. (A `map` over an intermediate Arrow table of the records,
then `save_to_disk`, reads every page of both tables back through memory maps: measured, that made peak RSS grow
from 0.73 GB for SQuAD 1.1 to 1.53 GB for four copies of it.) The result is cached under a key made of the tokenizer, the
window settings, the negative-sampling settings and the content of every input file, so a second run (or the one
after `qa-tui prepare`) opens it at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from qa_tui.data.negatives import antonym_negatives, negation_negatives, same_article_negatives, swap_negatives
from qa_tui.data.squad import QARecord, ValidationReport, read_records
from qa_tui.data.train_files import parse_train_file
from qa_tui.engine.windows import WindowSettings, tokenize_windows
from qa_tui.errors import UserError

FEATURES_VERSION = 3  # bump when the features or the holdout split change, so old caches are not reused


def _context_key(context: str) -> str:
    """The same paragraph whatever its white space: a selection set may re-wrap the text it copies."""
    return hashlib.sha1(" ".join(context.split()).encode()).hexdigest()


@dataclass(frozen=True)
class KeptOut:
    """The articles (by title) and paragraphs (by context) that must not be trained on: the selection set's."""

    titles: frozenset[str]
    contexts: frozenset[str]

    @classmethod
    def of(cls, records: Iterable[QARecord]) -> "KeptOut":
        records = list(records)
        return cls(frozenset(r.title for r in records), frozenset(_context_key(r.context) for r in records))

    def holds(self, record: QARecord) -> bool:
        return record.title in self.titles or _context_key(record.context) in self.contexts

    def digest(self) -> str:
        return hashlib.sha256(json.dumps([sorted(self.titles), sorted(self.contexts)]).encode()).hexdigest()


@dataclass(frozen=True)
class FeatureSettings:
    """Everything that decides the training features, and so the cache key."""

    windows: WindowSettings = WindowSettings()
    negatives: float = 0.0  # per answerable question: chance of adding it, paired with another paragraph
    swap_negatives: float = 0.0  # per answerable question: chance of adding it with a name or number swapped
    negation_negatives: float = 0.0  # per answerable question: chance of adding it negated
    antonym_negatives: float = 0.0  # per answerable question: chance of adding it with a word's antonym
    holdout: float = 0.0  # share of training articles set aside for evaluation and threshold choice
    seed: int = 42
    strict: bool = False
    kept_out: KeptOut | None = None  # a selection set's articles and paragraphs, never trained on


def default_cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("qa-tui")) / "features"


def is_holdout_article(title: str, share: float, seed: int) -> bool:
    """A stable choice by article, so a question and its negatives always land on the same side."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{seed}:{title}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _articles(records: Iterable[QARecord]) -> Iterator[list[QARecord]]:
    """Consecutive records with the same title (SQuAD files store each article in one piece)."""
    article: list[QARecord] = []
    for record in records:
        if article and record.title != article[0].title:
            yield article
            article = []
        article.append(record)
    if article:
        yield article


def _weighted(article: list[QARecord], weight: float, rng: random.Random) -> list[QARecord]:
    """Each record int(weight) times, and once more with chance weight - int(weight)."""
    whole, part = int(weight), weight - int(weight)
    return [copy for record in article for copy in [record] * (whole + (part > 0 and rng.random() < part))]


def split_examples(
    specs: Sequence[str], settings: FeatureSettings, reports: list[ValidationReport], kept_out_counts: dict | None = None
) -> Iterator[tuple[bool, QARecord]]:
    """(is_holdout, record) for every valid record of every file (`PATH[:WEIGHT]`), each followed by its article's
    negatives. Records of `settings.kept_out` are skipped and counted into `kept_out_counts`."""
    rng = random.Random(settings.seed)
    kept_out_paragraphs: set[str] = set()
    for spec in specs:
        path, weight = parse_train_file(spec)
        report = ValidationReport(file=str(spec))
        reports.append(report)
        for article in _articles(read_records(path, strict=settings.strict, report=report)):
            if settings.kept_out is not None:
                kept, dropped = [], []
                for record in article:
                    (dropped if settings.kept_out.holds(record) else kept).append(record)
                if kept_out_counts is not None and dropped:
                    kept_out_counts["kept_out_questions"] = kept_out_counts.get("kept_out_questions", 0) + len(dropped)
                    kept_out_paragraphs.update(f"{spec}|{_context_key(r.context)}" for r in dropped)
                    kept_out_counts["kept_out_paragraphs"] = len(kept_out_paragraphs)
                if not kept:
                    continue
                article = kept
            # By file name, not path: the same file held out the same way wherever it lives.
            holdout = is_holdout_article(f"{Path(path).name}:{article[0].title}", settings.holdout, settings.seed)
            negatives = [
                *same_article_negatives(article, settings.negatives, rng),
                *swap_negatives(article, settings.swap_negatives, rng),
                *negation_negatives(article, settings.negation_negatives, rng),
                *antonym_negatives(article, settings.antonym_negatives, rng),
            ]
            if weight != 1.0 and not holdout:  # the file's own questions are weighted; its negatives are not
                article = _weighted(article, weight, rng)
            for record in [*article, *negatives]:
                yield holdout, record


def label_windows(batch: dict, tokenizer, windows: WindowSettings) -> dict:
    """Tokenize a batch of examples into windows labelled with the answer's first and last token.

    A window that does not hold the whole answer (or any answer: an unanswerable question) points both labels at
    token 0, [CLS], which is how the model learns to say "no answer".
    """
    encoding = tokenize_windows(tokenizer, batch["question"], batch["context"], windows)
    starts, ends = [], []
    for window_index, example_index in enumerate(encoding["overflow_to_sample_mapping"]):
        answer_starts = batch["answer_start"][example_index]
        start_token = end_token = 0
        if answer_starts:
            char_start = answer_starts[0]
            char_end = char_start + len(batch["answer_text"][example_index][0])
            sequence_ids = encoding.sequence_ids(window_index)
            offsets = encoding["offset_mapping"][window_index]
            context_tokens = [i for i, sid in enumerate(sequence_ids) if sid == 1]
            first, last = context_tokens[0], context_tokens[-1]
            if offsets[first][0] <= char_start and offsets[last][1] >= char_end:
                start_token = first
                while start_token <= last and offsets[start_token][1] <= char_start:
                    start_token += 1
                end_token = last
                while end_token >= first and offsets[end_token][0] >= char_end:
                    end_token -= 1
        starts.append(start_token)
        ends.append(end_token)
    features = {
        "input_ids": encoding["input_ids"],
        "attention_mask": encoding["attention_mask"],
        "start_positions": starts,
        "end_positions": ends,
        "length": [len(ids) for ids in encoding["input_ids"]],
    }
    if "token_type_ids" in encoding:
        features["token_type_ids"] = encoding["token_type_ids"]
    return features


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tokenizer_identity(tokenizer) -> str:
    """What makes two tokenizers cut text the same way: vocabulary, normalisation, pre-tokenisation (its JSON
    form), without the truncation and padding state that the last call left in it."""
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    spec.pop("truncation", None)
    spec.pop("padding", None)
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def cache_key(specs: Sequence[str], tokenizer, settings: FeatureSettings) -> str:
    settings_part = asdict(settings)
    settings_part["kept_out"] = settings.kept_out.digest() if settings.kept_out else None
    files = []
    for spec in specs:
        path, weight = parse_train_file(spec)
        files.append(_file_digest(path) if weight == 1.0 else [_file_digest(path), weight])
    payload = {
        "version": FEATURES_VERSION,
        "tokenizer": tokenizer_identity(tokenizer),
        "settings": settings_part,
        "files": files,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class PreparedData:
    """What `prepare_features` made: the train features (memory-mapped), the holdout records file, the counts."""

    directory: Path
    train: "object"  # datasets.Dataset
    holdout_file: Path | None
    summary: dict


TOKENIZE_BATCH = 1000  # records per call to the Rust tokenizer


def _feature_types(tokenizer):
    """Narrow integer types: a third of the disk (and of the memory-mapped pages) that int64 would take."""
    import datasets

    types = {
        "input_ids": datasets.Sequence(datasets.Value("int32")),
        "attention_mask": datasets.Sequence(datasets.Value("int8")),
        "start_positions": datasets.Value("int32"),
        "end_positions": datasets.Value("int32"),
        "length": datasets.Value("int32"),
    }
    if "token_type_ids" in tokenizer.model_input_names:
        types["token_type_ids"] = datasets.Sequence(datasets.Value("int8"))
    return datasets.Features(types)


def _feature_rows(records: Sequence[QARecord], tokenizer, windows: WindowSettings) -> Iterator[dict]:
    """The labelled windows of a batch of records, one row each."""
    if not records:
        return
    batch = {
        "question": [record.question for record in records],
        "context": [record.context for record in records],
        "answer_text": [[answer["text"] for answer in record.answers] for record in records],
        "answer_start": [[answer["answer_start"] for answer in record.answers] for record in records],
    }
    features = label_windows(batch, tokenizer, windows)
    for row in range(len(features["input_ids"])):
        yield {name: values[row] for name, values in features.items()}


def _open_features(directory: Path):
    """The features' Arrow files, memory-mapped, as one dataset."""
    import datasets

    files = sorted(directory.glob("features-*.arrow"))
    if not files:
        raise FileNotFoundError(f"no feature files in {directory}")
    parts = [datasets.Dataset.from_file(str(path)) for path in files]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def prepare_features(
    paths: Sequence[str],
    tokenizer,
    settings: FeatureSettings,
    cache_dir: str | os.PathLike | None = None,
    log=print,
) -> PreparedData:
    """Build (or reuse) the training features for `paths`; the holdout articles are written as SQuAD v2.0 JSON."""
    import datasets

    from qa_tui.data.squad import write_squad_v2

    settings.windows.check()
    for spec in paths:
        path, _ = parse_train_file(spec)
        if not Path(path).is_file():
            raise UserError(f"{path}: no such training file")
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    key = cache_key(paths, tokenizer, settings)
    directory = root / key
    summary_file = directory / "summary.json"
    if summary_file.is_file():
        try:
            summary = json.loads(summary_file.read_text())
            train = _open_features(directory / "train")
            holdout = directory / "holdout.json"
            log(f"reusing cached features {directory}")
            return PreparedData(directory, train, holdout if holdout.is_file() else None, summary)
        except (OSError, ValueError, FileNotFoundError) as exc:
            log(f"cached features in {directory} are unreadable ({exc}); building them again")
    shutil.rmtree(directory, ignore_errors=True)
    building = root / f"{key}.building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)

    reports: list[ValidationReport] = []
    holdout_records: list[QARecord] = []
    counts = {"train_examples": 0, "train_unanswerable": 0, "holdout_examples": 0}
    kept_out_counts = {"kept_out_paragraphs": 0, "kept_out_questions": 0}

    def feature_rows():
        pending: list[QARecord] = []
        for is_holdout, record in split_examples(paths, settings, reports, kept_out_counts):
            if is_holdout:
                holdout_records.append(record)
                counts["holdout_examples"] += 1
                continue
            counts["train_examples"] += 1
            counts["train_unanswerable"] += record.is_impossible
            pending.append(record)
            if len(pending) == TOKENIZE_BATCH:
                yield from _feature_rows(pending, tokenizer, settings.windows)
                pending = []
        yield from _feature_rows(pending, tokenizer, settings.windows)

    try:
        generated = datasets.Dataset.from_generator(
            feature_rows, features=_feature_types(tokenizer), cache_dir=str(building / "hf-cache")
        )
    except ValueError:  # datasets refuses a generator that yields nothing: reported just below
        if counts["train_examples"]:
            raise
    except datasets.exceptions.DatasetGenerationError as exc:  # raised `from` a bad record our reader reported
        shutil.rmtree(building, ignore_errors=True)
        if isinstance(exc.__cause__, UserError):
            raise exc.__cause__ from None
        raise
    for report in reports:
        log(report.summary())
    if counts["train_examples"] == 0:
        shutil.rmtree(building, ignore_errors=True)
        reasons = "; ".join(report.summary() for report in reports)
        raise UserError(f"no training examples are left after validation and the holdout split ({reasons})")
    (building / "train").mkdir()
    for index, cache_file in enumerate(generated.cache_files):
        os.replace(cache_file["filename"], building / "train" / f"features-{index:05d}.arrow")
    holdout_file = None
    if holdout_records:
        holdout_file = building / "holdout.json"
        write_squad_v2(holdout_file, holdout_records)
    summary = {
        **counts,
        **(kept_out_counts if settings.kept_out is not None else {}),
        "train_features": len(generated),
        "files": [report.to_dict() for report in reports],
        "settings": {**asdict(settings), "kept_out": None},
    }
    (building / "summary.json").write_text(json.dumps(summary, indent=2))
    shutil.rmtree(building / "hf-cache", ignore_errors=True)
    try:
        os.replace(building, directory)
    except OSError:  # another process (a torchrun rank, a second user) finished the same features first
        if not (directory / "summary.json").is_file():
            raise
        shutil.rmtree(building, ignore_errors=True)
    train = _open_features(directory / "train")
    return PreparedData(directory, train, directory / "holdout.json" if holdout_file else None, summary)

