"""Searchable passage indexes: `SearchIndex` in memory, `CorpusIndex` for files, cached on disk and kept fresh.

The cache of a corpus (the folders and files given, by absolute path) lives in
`<index dir>/<name>-<hash of the paths>/`, the index dir being `--index-dir` or a per-user cache folder:

    manifest.json          settings, and per file: size, mtime_ns, sha256 of its bytes, or why it was skipped
    docs/<sha256>-<s>.json one document: its text (for a PDF the extracted text) and its passages' offsets
    docs/<sha256>-<s>.npy  its passages' MiniLM vectors (made the first time a dense search needs them)
    bm25-<key>/            the bm25s index of all passages, for the set of documents that `key` names

Opening compares each file's size and mtime with the manifest and re-reads (and hashes) only those that differ,
or whose mtime is too close to the last indexing to trust; a file whose bytes changed is split again and gets
new vectors, a removed file is dropped, unchanged files reuse their cached passages and vectors. Documents are
stored by content hash, so a renamed or copied file costs nothing. Every file is written atomically
(`qa_tui.io`), a lock file serialises processes opening the same corpus, and a damaged cache is rebuilt with a
note instead of failing: a bad manifest rebuilds it all, a bad document or vector file only that document.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from qa_tui.errors import UserError
from qa_tui.retrieval.bm25 import BM25Index
from qa_tui.retrieval.dense import DIMENSIONS, DenseEncoder, DenseIndex, encoder_name
from qa_tui.retrieval.fusion import reciprocal_rank_fusion
from qa_tui.retrieval.passages import (
    MAX_CHARS,
    OVERLAP_CHARS,
    PDF_SUFFIXES,
    TEXT_SUFFIXES,
    Passage,
    SkipFile,
    read_document,
    split_passages,
)

RETRIEVERS = ("hybrid", "bm25", "dense")
FORMAT = 1
# How deep each ranking goes before hybrid fusion: enough that a passage ranked well by one retriever only survives.
FUSION_DEPTH = 100
# mtimes this close to the last indexing may hide a later change of the same size (as git's "racy clean" entries).
RACY_NS = 2_000_000_000

Note = Callable[[str], None]
Progress = Callable[[str, int, int], None]


class CorruptIndex(Exception):
    """Part of a cached index cannot be read back: it is rebuilt."""


@dataclass(frozen=True)
class IndexSettings:
    """What the cached passages depend on: a change rebuilds the index."""

    max_chars: int = MAX_CHARS
    overlap_chars: int = OVERLAP_CHARS
    encoding: str = "utf-8"

    def to_dict(self) -> dict:
        return {**asdict(self), "dense_model": encoder_name()}


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: `rank` from 1; `score` is the BM25 score, the cosine, or the fused RRF score."""

    passage: Passage
    score: float
    rank: int


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass
class Document:
    """An indexed file: its text (offsets refer to it) and its passages, which are slices of it."""

    source: str
    sha256: str
    text: str
    passages: list[Passage]


@dataclass
class OpenReport:
    """What opening a corpus index did (the CLI prints it with --verbose)."""

    directory: Path
    files: int = 0  # all files found, skipped ones included
    indexed: int = 0  # documents split (and hashed) this time
    new: int = 0
    changed: int = 0
    removed: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


class SearchIndex:
    """Passages with a BM25 index and (optionally) a dense index over them; `search` ranks them for a query."""

    def __init__(
        self,
        passages: Sequence[Passage],
        bm25: BM25Index | None = None,
        dense: DenseIndex | None = None,
        device: str = "auto",
    ):
        self.passages = list(passages)
        self.bm25 = bm25 if bm25 is not None else BM25Index.build([p.text for p in self.passages])
        self.dense = dense
        self.device = device

    @classmethod
    def build(cls, passages: Sequence[Passage], dense: bool = True, device: str = "auto") -> "SearchIndex":
        """Index passages in memory (benchmarks, tests); `dense=False` skips the embeddings."""
        index = cls(passages, device=device)
        if dense:
            vectors = DenseEncoder.shared(device).encode([p.text for p in index.passages])
            index.dense = DenseIndex(vectors)
        return index

    def ensure_dense(self) -> DenseIndex:
        if self.dense is None:
            self.dense = DenseIndex(DenseEncoder.shared(self.device).encode([p.text for p in self.passages]))
        return self.dense

    def ranking(
        self, query: str, retriever: str, depth: int, query_vector: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(passage number, score) pairs, best first, at most `depth`; `query_vector`: the query's embedding,
        when the caller has it (benchmarks encode their questions in batches)."""
        if retriever == "bm25":
            indices, scores = self.bm25.search(query, depth)
        elif retriever == "dense":
            dense = self.ensure_dense()
            if query_vector is None:
                query_vector = DenseEncoder.shared(self.device).encode_query(query)
            indices, scores = dense.search(query_vector, depth)
        elif retriever == "hybrid":
            depth_each = max(depth, FUSION_DEPTH)
            lexical = [i for i, _ in self.ranking(query, "bm25", depth_each)]
            semantic = [i for i, _ in self.ranking(query, "dense", depth_each, query_vector)]
            return reciprocal_rank_fusion([lexical, semantic], limit=depth)
        else:
            raise UserError(f"--retriever {retriever}: expected one of {', '.join(RETRIEVERS)}")
        return list(zip(indices.tolist(), scores.tolist()))

    def search(
        self, query: str, k: int, retriever: str = "hybrid", query_vector: np.ndarray | None = None
    ) -> list[Hit]:
        """The k best passages for `query` (fewer when BM25 alone finds fewer with a common term)."""
        if k < 1:
            raise UserError("--passages must be at least 1")
        return [
            Hit(passage=self.passages[i], score=float(score), rank=rank)
            for rank, (i, score) in enumerate(self.ranking(query, retriever, k, query_vector), start=1)
        ]


def default_index_root() -> Path:
    """The per-user cache folder for corpus indexes (e.g. ~/.cache/qa-tui/indexes on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("qa-tui")) / "indexes"


def corpus_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The corpus as absolute paths (not resolving links), duplicates dropped, order kept."""
    seen: dict[str, Path] = {}
    for raw in paths:
        path = Path(os.path.abspath(Path(raw).expanduser()))
        seen.setdefault(str(path), path)
    return list(seen.values())


def corpus_key(paths: Sequence[Path]) -> str:
    """The cache folder name of a corpus: a readable name and a hash of its absolute paths."""
    digest = hashlib.sha256("\n".join(sorted(str(p) for p in paths)).encode("utf-8")).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", paths[0].name if paths else "corpus").strip("._")[:40] or "corpus"
    return f"{name}-{digest}"


def collect_files(paths: Sequence[Path], exclude: Path | None = None) -> tuple[list[Path], list[Skipped]]:
    """Files to index: those named, and the txt/md/PDF files under the folders named (hidden ones left out).

    Other files in a folder are skipped (and counted); a missing path or an empty folder is a UserError.
    """
    if not paths:
        raise UserError("--docs: give a folder or files to search")
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
        if not path.is_dir():
            files.append(path)
            continue
        found = 0
        for folder, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and (exclude is None or Path(folder, d) != exclude)
            )
            for filename in sorted(filenames):
                if filename.startswith("."):
                    continue
                found += 1
                file = Path(folder, filename)
                if file.suffix.lower() in TEXT_SUFFIXES | PDF_SUFFIXES:
                    files.append(file)
                else:
                    skipped.append(Skipped(str(file), f"not a text, Markdown or PDF file ({file.suffix})"))
        if not found:
            raise UserError(f"{path}: empty folder, no files to search")
    unique = list({str(f): f for f in files}.values())
    return unique, skipped


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CorpusIndex(SearchIndex):
    """The passages of a set of files, searchable, backed by an on-disk cache (see the module doc)."""

    def __init__(
        self,
        directory: Path,
        documents: list[Document],
        report: OpenReport,
        bm25: BM25Index,
        dense: DenseIndex | None = None,
        device: str = "auto",
        settings: IndexSettings = IndexSettings(),
    ):
        self.directory = directory
        self.settings = settings
        self.documents = {doc.source: doc for doc in documents}
        self.report = report
        super().__init__([p for doc in documents for p in doc.passages], bm25=bm25, dense=dense, device=device)

    @property
    def skipped(self) -> list[Skipped]:
        return self.report.skipped

    def document_text(self, source: str) -> str:
        """The text that `source`'s passage and answer offsets refer to (for a PDF, its extracted text)."""
        return self.documents[source].text

    @classmethod
    def open(
        cls,
        paths: Iterable[str | os.PathLike],
        index_dir: str | os.PathLike | None = None,
        *,
        retriever: str = "hybrid",
        settings: IndexSettings = IndexSettings(),
        device: str = "auto",
        note: Note | None = None,
        progress: Progress | None = None,
    ) -> "CorpusIndex":
        """Index `paths` (folders and files), reusing and refreshing the cache; ready for `retriever`.

        `note(message)` hears about rebuilt caches; `progress(stage, done, total)` about slow work.
        Raises UserError for a missing path, an empty folder, or no readable file.
        """
        if retriever not in RETRIEVERS:
            raise UserError(f"--retriever {retriever}: expected one of {', '.join(RETRIEVERS)}")
        note = note or (lambda message: None)
        started = time.perf_counter()
        paths = corpus_paths(paths)
        root = Path(index_dir).expanduser() if index_dir is not None else default_index_root()
        directory = Path(os.path.abspath(root)) / corpus_key(paths)
        files, skipped = collect_files(paths, exclude=Path(os.path.abspath(root)))
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--index-dir {root}: cannot create {directory} ({exc.strerror})") from exc
        with _locked(directory):
            builder = _Builder(directory, settings, note, progress)
            try:
                documents, report = builder.refresh(files, skipped)
            except CorruptIndex as exc:
                note(f"the cached index in {directory} was corrupt ({exc}): rebuilding it")
                _clear(directory)
                documents, report = builder.refresh(files, skipped)
            bm25 = builder.bm25(documents)
            dense = builder.dense(documents, device) if retriever in ("dense", "hybrid") else None
            builder.collect_garbage(documents)
        report.seconds = time.perf_counter() - started
        return cls(directory, documents, report, bm25, dense, device=device, settings=settings)

    def ensure_dense(self) -> DenseIndex:
        """Vectors for a dense search, from the cache or made now (and cached)."""
        if self.dense is None:
            with _locked(self.directory):
                builder = _Builder(self.directory, self.settings, lambda message: None, None)
                self.dense = builder.dense(list(self.documents.values()), self.device)
        return self.dense


class _Builder:
    """The cache-refreshing steps of `CorpusIndex.open`, inside the corpus lock."""

    def __init__(self, directory: Path, settings: IndexSettings, note: Note, progress: Progress | None):
        self.directory = directory
        self.docs_dir = directory / "docs"
        self.manifest_path = directory / "manifest.json"
        self.settings = settings
        # Document files are named by content hash and settings: other settings never read them.
        self.settings_key = hashlib.sha256(json.dumps(settings.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
        self.note = note
        self.progress = progress
        self.manifest: dict = {}

    # -- manifest and documents ------------------------------------------------------------------------------

    def read_manifest(self) -> dict | None:
        if not self.manifest_path.exists():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptIndex(f"manifest.json unreadable: {type(exc).__name__}") from exc
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            raise CorruptIndex("manifest.json is not an index manifest")
        if manifest.get("format") != FORMAT:
            self.note(f"the cached index in {self.directory} has another format: rebuilding it")
            return None
        for entry in manifest["files"].values():
            if not isinstance(entry, dict) or not {"size", "mtime_ns", "sha256"} <= entry.keys():
                raise CorruptIndex("manifest.json has a bad file entry")
        if manifest.get("settings") != self.settings.to_dict():
            return None  # other splitting settings or encoder: every document is indexed again
        return manifest

    def refresh(self, files: list[Path], skipped: list[Skipped]) -> tuple[list[Document], OpenReport]:
        """Bring the manifest and document files up to date with `files`; the indexed documents in order."""
        old = self.read_manifest() or {}
        old_files: dict = old.get("files", {})
        trusted_before = int(old.get("indexed_at_ns", 0)) - RACY_NS
        report = OpenReport(self.directory, files=len(files) + len(skipped), skipped=list(skipped))
        started_ns = time.time_ns()
        entries: dict[str, dict] = {}
        documents: list[Document] = []
        for number, path in enumerate(files):
            if self.progress is not None:
                self.progress("reading files", number, len(files))
            source = str(path)
            entry = old_files.get(source)
            try:
                stat = path.stat()
                if (
                    entry is not None
                    and entry["size"] == stat.st_size
                    and entry["mtime_ns"] == stat.st_mtime_ns
                    and stat.st_mtime_ns < trusted_before
                ):
                    data = None
                    sha = entry["sha256"]
                else:
                    data = path.read_bytes()
                    sha = file_sha256(data)
            except OSError as exc:
                report.skipped.append(Skipped(source, f"cannot read it ({exc.strerror})"))
                continue
            fresh = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha, "skipped": None}
            if entry is not None and entry["sha256"] == sha and entry.get("skipped"):
                fresh["skipped"] = entry["skipped"]
                entries[source] = fresh
                report.skipped.append(Skipped(source, entry["skipped"]))
                continue
            document = self.load_document(source, sha)
            if document is None:
                try:
                    text = read_document(path, self.settings.encoding, data=data)
                except SkipFile as exc:
                    if exc.lasting:  # remembered until the file changes
                        fresh["skipped"] = str(exc)
                        entries[source] = fresh
                    report.skipped.append(Skipped(source, str(exc)))
                    continue
                document = self.write_document(source, sha, text)
                report.indexed += 1
                if entry is None:
                    report.new += 1
                elif entry["sha256"] != sha:
                    report.changed += 1
            elif entry is not None and entry["sha256"] != sha:
                report.changed += 1
            entries[source] = fresh
            documents.append(document)
        report.removed = len(set(old_files) - set(entries))
        self.manifest = {
            "format": FORMAT,
            "settings": self.settings.to_dict(),
            "indexed_at_ns": started_ns,
            "files": entries,
            "bm25": old.get("bm25"),
        }
        self.write_manifest()
        if not documents:
            raise UserError(_nothing_readable(report))
        return documents, report

    def write_manifest(self) -> None:
        from qa_tui.io import write_json_atomic

        write_json_atomic(self.manifest_path, self.manifest, indent=None)

    def document_stem(self, sha: str) -> str:
        return f"{sha}-{self.settings_key}"

    def document_path(self, sha: str, suffix: str) -> Path:
        return self.docs_dir / f"{self.document_stem(sha)}{suffix}"

    def load_document(self, source: str, sha: str) -> Document | None:
        """The cached document with these bytes, or None (absent, or damaged: then noted and made again)."""
        path = self.document_path(sha, ".json")
        if not path.exists():
            return None
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            text, offsets = stored["text"], stored["passages"]
            if not isinstance(text, str) or not offsets:
                raise ValueError("no text or no passages")
            passages = []
            for start, end in offsets:
                if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
                    raise ValueError("passage offsets out of range")
                passages.append(Passage(source, start, end, text[start:end]))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            self.note(f"the cached passages of {source} were corrupt ({type(exc).__name__}): indexing it again")
            with contextlib.suppress(OSError):
                path.unlink()
                self.document_path(sha, ".npy").unlink(missing_ok=True)
            return None
        return Document(source, sha, text, passages)

    def write_document(self, source: str, sha: str, text: str) -> Document:
        from qa_tui.io import write_json_atomic

        passages = split_passages(text, source, self.settings.max_chars, self.settings.overlap_chars)
        offsets = [[p.start, p.end] for p in passages]
        self.document_path(sha, ".npy").unlink(missing_ok=True)  # vectors left by a damaged earlier copy
        write_json_atomic(self.document_path(sha, ".json"), {"text": text, "passages": offsets}, indent=None)
        return Document(source, sha, text, passages)

    # -- BM25 and vectors --------------------------------------------------------------------------------------

    def bm25(self, documents: list[Document]) -> BM25Index:
        """The BM25 index of all passages: the cached one if it was built for these documents, else built now."""
        key = hashlib.sha256(
            "\n".join(f"{doc.source}\t{doc.sha256}" for doc in documents).encode("utf-8")
        ).hexdigest()[:16]
        name = f"bm25-{key}"
        size = sum(len(doc.passages) for doc in documents)
        folder = self.directory / name
        if self.manifest.get("bm25") == name and folder.is_dir():
            try:
                index = BM25Index.load(folder)
                if index.size != size:
                    raise ValueError(f"{index.size} passages, expected {size}")
                return index
            except Exception as exc:  # numpy, json and bm25s errors alike: the folder is damaged
                self.note(f"the cached BM25 index in {folder} was corrupt ({type(exc).__name__}): rebuilding it")
        if self.progress is not None:
            self.progress("BM25 index", 0, 1)
        index = BM25Index.build([p.text for doc in documents for p in doc.passages])
        temporary = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=self.directory))
        index.save(temporary)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(temporary, folder)
        self.manifest["bm25"] = name
        self.write_manifest()
        return index

    def dense(self, documents: list[Document], device: str) -> DenseIndex:
        """The passage vectors of all documents, cached per document; missing or damaged ones are made now."""
        from qa_tui.io import atomic_open

        parts: dict[str, np.ndarray] = {}
        missing: list[Document] = []
        for doc in documents:
            if doc.sha256 in parts:
                continue
            path = self.document_path(doc.sha256, ".npy")
            if not path.exists():
                missing.append(doc)
                continue
            try:
                vectors = np.load(path, allow_pickle=False)
                if vectors.shape != (len(doc.passages), DIMENSIONS) or not np.isfinite(vectors).all():
                    raise ValueError(f"shape {vectors.shape}")
                parts[doc.sha256] = vectors.astype(np.float32, copy=False)
            except Exception as exc:
                self.note(f"the cached vectors of {doc.source} were corrupt ({type(exc).__name__}): making them again")
                missing.append(doc)
        missing = list({doc.sha256: doc for doc in missing if doc.sha256 not in parts}.values())
        if missing:
            texts = [p.text for doc in missing for p in doc.passages]
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                if self.progress is not None:
                    self.progress("embedding passages", done, len(texts))

            vectors = DenseEncoder.shared(device).encode(texts, progress=advance)
            position = 0
            for doc in missing:
                part = vectors[position : position + len(doc.passages)]
                position += len(doc.passages)
                with atomic_open(self.document_path(doc.sha256, ".npy"), "wb") as handle:
                    np.save(handle, part, allow_pickle=False)
                parts[doc.sha256] = part
        return DenseIndex(np.concatenate([parts[doc.sha256] for doc in documents], axis=0))

    def collect_garbage(self, documents: list[Document]) -> None:
        """Remove cached documents, vectors and BM25 folders that nothing refers to any more."""
        keep = {self.document_stem(doc.sha256) for doc in documents}
        if self.docs_dir.is_dir():
            for path in self.docs_dir.iterdir():
                if path.name.split(".", 1)[0] not in keep:
                    path.unlink(missing_ok=True)
        for path in self.directory.glob("bm25-*"):
            if path.name != self.manifest.get("bm25"):
                shutil.rmtree(path, ignore_errors=True)
        for path in self.directory.glob(".bm25-*"):  # left by a crash while saving
            shutil.rmtree(path, ignore_errors=True)


def _nothing_readable(report: OpenReport) -> str:
    shown = "; ".join(f"{Path(s.path).name}: {s.reason}" for s in report.skipped[:3])
    more = f"; and {len(report.skipped) - 3} more" if len(report.skipped) > 3 else ""
    return f"no readable text in the documents given ({len(report.skipped)} file(s) skipped: {shown}{more})"


def _clear(directory: Path) -> None:
    """Empty a corpus cache folder, keeping its lock file."""
    for path in directory.iterdir():
        if path.name == ".lock":
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(directory: Path):
    """Hold an exclusive lock on the corpus cache (POSIX); elsewhere, no lock."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
