"""qa_tui.retrieval: passages and their offsets, fusion, BM25/dense search, the cached corpus index, the reader
over retrieved passages, and `qa-tui ask --docs` (its bad input included) with the tiny random QA model."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from qa_tui.errors import UserError
from qa_tui.retrieval.bm25 import BM25Index, s_stem, tokenize
from qa_tui.retrieval.fusion import reciprocal_rank_fusion
from qa_tui.retrieval.index import CorpusIndex, IndexSettings
from qa_tui.retrieval.passages import (
    SkipFile,
    paragraph_spans,
    passage_around,
    read_document,
    sentence_spans,
    split_passages,
)

CORPUS = Path(__file__).parent / "fixtures" / "retrieval" / "corpus"


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A writable copy of the three-document fixture corpus."""
    return Path(shutil.copytree(CORPUS, tmp_path / "corpus"))


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing `lines` in Helvetica, written by hand (pypdf only reads text, it cannot typeset)."""
    content = "BT /F1 12 Tf 72 712 Td " + " ".join(f"({line}) Tj 0 -16 Td" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


# --- passages -------------------------------------------------------------------------------------------------


def check_passages(text: str, passages, max_chars: int) -> None:
    """Every passage is an exact, stripped slice within the limit; together they cover every non-space character."""
    covered = np.zeros(len(text), dtype=bool)
    for passage in passages:
        assert text[passage.start : passage.end] == passage.text
        assert passage.text == passage.text.strip() and passage.text
        assert len(passage.text) <= max_chars
        covered[passage.start : passage.end] = True
    assert all(covered[i] or text[i].isspace() for i in range(len(text)))
    starts = [p.start for p in passages]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_short_paragraphs_share_a_passage_and_keep_offsets():
    text = "\n\n  Title line\n\nFirst paragraph. It is short.\r\n\r\nSecond one.\n   \n\tThird.  \n"
    passages = split_passages(text, "doc.txt", max_chars=1000)
    assert len(passages) == 1
    assert passages[0].text.startswith("Title line") and passages[0].text.endswith("Third.")
    assert passages[0].source == "doc.txt"
    check_passages(text, passages, 1000)
    assert [text[a:b] for a, b in paragraph_spans(text)] == [
        "Title line", "First paragraph. It is short.", "Second one.", "Third."
    ]


def test_paragraphs_are_not_cut_when_they_fit():
    paragraphs = [f"Paragraph {i} says something. " * 3 for i in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    passages = split_passages(text, max_chars=200, overlap_chars=50)
    check_passages(text, passages, 200)
    for passage in passages:  # whole paragraphs only: every passage starts and ends on a paragraph edge
        assert passage.start == 0 or text[passage.start - 2 : passage.start] == "\n\n"
        assert passage.end == len(text) or text[passage.end : passage.end + 2] == "\n\n"
    # A paragraph boundary is a clean cut: consecutive passages do not overlap.
    assert all(a.end < b.start for a, b in zip(passages, passages[1:]))


def test_long_paragraph_splits_on_sentences_with_overlap():
    sentences = [f"Sentence number {i} has (some) words in it." for i in range(40)]
    text = "Intro.\n\n" + " ".join(sentences) + "\n\nOutro paragraph."
    passages = split_passages(text, max_chars=300, overlap_chars=100)
    check_passages(text, passages, 300)
    middle = [p for p in passages if "Sentence" in p.text]
    assert len(middle) > 3
    for passage in middle:  # cut on sentence boundaries
        assert passage.text.endswith(".") and passage.text.startswith(("Sentence", "Intro."))
    overlaps = [a.end - b.start for a, b in zip(middle, middle[1:])]
    assert all(0 < overlap <= 100 for overlap in overlaps)
    # Every sentence is whole in some passage (an answer inside a sentence is never cut).
    for sentence in sentences:
        assert any(sentence in p.text for p in passages)


def test_an_annotated_span_keeps_the_first_passage_that_holds_it_or_the_passages_it_crosses():
    paragraphs = [f"Paragraph {i} says something. " * 3 for i in range(6)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    passages = split_passages(text, max_chars=200, overlap_chars=50)
    inside = text.index("Paragraph 2")
    start, end = passage_around(passages, inside, inside + 11)
    assert text[start:end] == next(p.text for p in passages if p.start <= inside < p.end)
    crossing_start, crossing_end = passages[0].end - 5, passages[1].start + 5  # over a paragraph break
    start, end = passage_around(passages, crossing_start, crossing_end)
    assert (start, end) == (passages[0].start, passages[1].end)
    with pytest.raises(ValueError):
        passage_around(passages, len(text) + 1, len(text) + 2)


def test_sentence_ends_keep_closing_quotes_and_brackets():
    text = 'He said "Stop." Then he left. (It rained.) Next day 3 people came! Really?'
    spans = [text[a:b] for a, b in sentence_spans(text, 0, len(text))]
    assert spans == ['He said "Stop."', "Then he left.", "(It rained.)", "Next day 3 people came!", "Really?"]


def test_overlong_sentence_and_unbroken_text_are_cut():
    words = " ".join(f"word{i}" for i in range(200))
    text = words + "\n\n" + "x" * 450
    passages = split_passages(text, max_chars=100, overlap_chars=0)
    check_passages(text, passages, 100)
    assert all(not p.text.startswith(" ") for p in passages)
    assert split_passages("   \n\n  ") == []


def test_split_rejects_bad_settings():
    with pytest.raises(ValueError):
        split_passages("text", max_chars=0)


def test_read_document_text_and_skips(tmp_path):
    good = tmp_path / "good.md"
    good.write_bytes("\ufeffCaf\u00e9 au lait.\n".encode("utf-8"))
    assert read_document(good) == "Caf\u00e9 au lait.\n"
    latin = tmp_path / "latin.txt"
    latin.write_bytes("caf\u00e9".encode("latin-1"))
    with pytest.raises(SkipFile, match="not valid utf-8"):
        read_document(latin)
    assert read_document(latin, encoding="latin-1") == "caf\u00e9"
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"ab\x00\x01")
    with pytest.raises(SkipFile, match="binary"):
        read_document(binary)
    blank = tmp_path / "blank.txt"
    blank.write_text(" \n\n ")
    with pytest.raises(SkipFile, match="no text"):
        read_document(blank)


def test_read_pdf_and_offsets(tmp_path):
    pytest.importorskip("pypdf")
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(minimal_pdf(["Aspirin was first made in 1897.", "It came from willow bark."]))
    text = read_document(pdf)
    assert "Aspirin was first made in 1897." in text and "willow bark" in text
    check_passages(text, split_passages(text, str(pdf)), 1000)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    with pytest.raises(SkipFile, match="PDF"):
        read_document(broken)


# --- fusion and BM25 ------------------------------------------------------------------------------------------


def test_rrf_scores_and_order():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    scores = dict(fused)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)
    assert scores["d"] == pytest.approx(1 / 63)
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]


def test_rrf_ties_weights_limit_and_duplicates():
    # A tie goes to the item seen first: "x" (first list) before "y".
    assert [i for i, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]
    weighted = reciprocal_rank_fusion([["x"], ["y"]], weights=[1.0, 2.0])
    assert [i for i, _ in weighted] == ["y", "x"]
    assert len(reciprocal_rank_fusion([["a", "b", "c"]], limit=2)) == 2
    assert dict(reciprocal_rank_fusion([["a", "a", "b"]], k=0)) == {"a": 1.0, "b": pytest.approx(1 / 3)}
    assert reciprocal_rank_fusion([]) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_s_stemmer_and_tokens():
    assert [s_stem(w) for w in ["vaccines", "studies", "glass", "virus", "analysis", "cats", "is"]] == [
        "vaccine", "study", "glass", "virus", "analysis", "cat", "is"
    ]
    assert tokenize(["The Vaccines of 2020!"]) == [["vaccine", "2020"]]


def test_bm25_search_and_round_trip(tmp_path):
    texts = ["The cat sat on the mat.", "Dogs are loyal animals.", "Vaccines protect against disease."]
    index = BM25Index.build(texts)
    indices, scores = index.search("Which vaccine protects?", 5)
    assert indices.tolist() == [2] and scores[0] > 0
    assert index.search("zebra", 5)[0].size == 0  # no shared term, no hit
    assert index.search("the of", 5)[0].size == 0  # stop words only
    index.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    assert again.size == 3 and again.search("loyal dogs", 1)[0].tolist() == [1]


# --- the corpus index -----------------------------------------------------------------------------------------


def open_index(paths, index_dir, notes=None, retriever="bm25", **kwargs) -> CorpusIndex:
    notes = notes if notes is not None else []
    return CorpusIndex.open(paths, index_dir, retriever=retriever, note=notes.append, **kwargs)


def test_index_offsets_and_search(corpus, tmp_path):
    index = open_index([corpus], tmp_path / "idx")
    assert sorted(Path(s).name for s in index.documents) == ["rivers.txt", "solar.txt", "vaccines.md"]
    for passage in index.passages:
        file_text = Path(passage.source).read_text(encoding="utf-8")
        assert file_text[passage.start : passage.end] == passage.text
        assert index.document_text(passage.source) == file_text
    hits = index.search("Who tested the first vaccine?", 2, "bm25")
    assert Path(hits[0].passage.source).name == "vaccines.md" and hits[0].rank == 1
    assert index.report.new == 3 and index.report.skipped == []


def test_index_is_reused_then_refreshed_for_changed_and_removed_files(corpus, tmp_path):
    first = open_index([corpus], tmp_path / "idx")
    again = open_index([corpus], tmp_path / "idx")
    assert again.report.indexed == 0 and again.report.changed == 0
    assert [p.text for p in again.passages] == [p.text for p in first.passages]

    rivers = corpus / "rivers.txt"
    rivers.write_text("The Thames flows through London.\n", encoding="utf-8")
    (corpus / "solar.txt").unlink()
    refreshed = open_index([corpus], tmp_path / "idx")
    assert refreshed.report.changed == 1 and refreshed.report.removed == 1 and refreshed.report.indexed == 1
    assert refreshed.document_text(str(rivers)) == "The Thames flows through London.\n"
    assert str(corpus / "solar.txt") not in refreshed.documents
    assert refreshed.search("Thames London", 1, "bm25")[0].passage.source == str(rivers)
    # Unreferenced cache files are gone: two documents, two passage files.
    assert len(list((refreshed.directory / "docs").glob("*.json"))) == 2
    assert len(list(refreshed.directory.glob("bm25-*"))) == 1


def test_same_size_change_within_the_same_mtime_is_seen(corpus, tmp_path):
    """A file rewritten (same size, mtime set back) right after indexing is hashed again, not trusted."""
    path = corpus / "rivers.txt"
    original = path.read_bytes()
    path.write_bytes(original)  # written just now
    before = path.stat()
    open_index([corpus], tmp_path / "idx")
    path.write_bytes(original.replace(b"Nile", b"Nilo"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    refreshed = open_index([corpus], tmp_path / "idx")
    assert refreshed.report.changed == 1
    assert "Nilo" in refreshed.document_text(str(path))


def test_corrupt_manifest_is_rebuilt_with_a_note(corpus, tmp_path):
    index = open_index([corpus], tmp_path / "idx")
    (index.directory / "manifest.json").write_text("{not json", encoding="utf-8")
    notes: list[str] = []
    rebuilt = open_index([corpus], tmp_path / "idx", notes)
    assert any("corrupt" in note and "rebuilding" in note for note in notes)
    assert rebuilt.report.new == 3 and len(rebuilt.passages) == len(index.passages)


def test_corrupt_document_and_bm25_files_are_rebuilt_with_notes(corpus, tmp_path):
    index = open_index([corpus], tmp_path / "idx")
    next((index.directory / "docs").glob("*.json")).write_text('{"text": 3}', encoding="utf-8")
    bm25_dir = next(index.directory.glob("bm25-*"))
    for path in bm25_dir.iterdir():
        path.write_bytes(b"garbage")
    notes: list[str] = []
    rebuilt = open_index([corpus], tmp_path / "idx", notes)
    assert any("cached passages" in note for note in notes), notes
    assert any("BM25" in note for note in notes), notes
    assert rebuilt.report.indexed == 1
    assert rebuilt.search("Jupiter moons", 1, "bm25")[0].passage.text.startswith("The Solar System")


def test_settings_change_reindexes(corpus, tmp_path):
    open_index([corpus], tmp_path / "idx")
    small = open_index([corpus], tmp_path / "idx", settings=IndexSettings(max_chars=200, overlap_chars=50))
    assert small.report.indexed == 3 and all(len(p.text) <= 200 for p in small.passages)


def test_mixed_in_binary_and_non_utf8_files_are_skipped(corpus, tmp_path):
    (corpus / "latin.txt").write_bytes("caf\u00e9".encode("latin-1"))
    (corpus / "blob.txt").write_bytes(b"\x00\x01\x02")
    (corpus / "picture.png").write_bytes(b"\x89PNG\r\n")
    (corpus / ".hidden.txt").write_text("never indexed")
    index = open_index([corpus], tmp_path / "idx")
    assert len(index.documents) == 3
    reasons = {Path(s.path).name: s.reason for s in index.skipped}
    assert set(reasons) == {"latin.txt", "blob.txt", "picture.png"}
    assert "utf-8" in reasons["latin.txt"] and "binary" in reasons["blob.txt"]
    assert index.report.files == 6
    # Skips are remembered (not read again) and still reported.
    assert len(open_index([corpus], tmp_path / "idx").skipped) == 3


def test_empty_folder_missing_path_and_nothing_readable(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="empty folder"):
        open_index([tmp_path / "empty"], tmp_path / "idx")
    with pytest.raises(UserError, match="no such file or folder"):
        open_index([tmp_path / "nowhere"], tmp_path / "idx")
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_bytes(b"\x00\x00")
    (junk / "b.txt").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(UserError, match="no readable text.*2 file"):
        open_index([junk], tmp_path / "idx")


def test_files_and_folders_together_and_index_dir_inside_the_corpus(corpus):
    extra = corpus.parent / "extra.txt"
    extra.write_text("Penguins live in the southern hemisphere.", encoding="utf-8")
    index = open_index([corpus, extra, corpus / "solar.txt"], corpus / "index-cache")
    assert len(index.documents) == 4
    again = open_index([corpus, extra], corpus / "index-cache")  # the cache folder is not read as documents
    assert len(again.documents) == 4 and again.report.skipped == []


# --- dense retrieval (the real MiniLM, a handful of passages) -------------------------------------------------


def test_dense_and_hybrid_search_with_cached_vectors(corpus, tmp_path, monkeypatch):
    index = open_index([corpus], tmp_path / "idx", retriever="hybrid")
    assert index.dense is not None and index.dense.vectors.shape == (len(index.passages), 384)
    norms = np.linalg.norm(index.dense.vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    top = index.search("Which planet is the biggest?", 1, "dense")[0]
    assert Path(top.passage.source).name == "solar.txt"
    hybrid = index.search("immunity of a population", 3, "hybrid")
    assert Path(hybrid[0].passage.source).name == "vaccines.md" and len(hybrid) == 3

    from qa_tui.retrieval.dense import DenseEncoder

    def no_encoding(self, texts, progress=None):
        raise AssertionError("vectors should come from the cache")

    monkeypatch.setattr(DenseEncoder, "encode", no_encoding)
    cached = open_index([corpus], tmp_path / "idx", retriever="dense")
    assert np.array_equal(cached.dense.vectors, index.dense.vectors)


# --- the reader -----------------------------------------------------------------------------------------------


def test_corpus_reader_answers_carry_file_offsets(corpus, tmp_path, tiny_engine):
    from qa_tui.retrieval import CorpusReader, SourcedSpan

    index = open_index([corpus], tmp_path / "idx")
    reader = CorpusReader(tiny_engine, index, retriever="bm25")
    answers = reader.ask("Who discovered the moons of Jupiter?", k=3, top_k=3)
    assert 1 <= len(answers) <= 3
    for answer in answers:
        source = answer.extra["source"]
        passage = answer.extra["passage"]
        file_text = Path(source).read_text(encoding="utf-8")
        assert passage["start"] < passage["end"] and passage["rank"] >= 1
        for span in answer.answers:
            assert isinstance(span, SourcedSpan) and span.source == source
            assert file_text[span.start : span.end] == span.text
            assert passage["start"] <= span.start < span.end <= passage["end"]
    best = [a.answers[0].score for a in answers if not a.is_impossible and a.answers]
    assert best == sorted(best, reverse=True)

    merged = reader.answer("Who discovered the moons of Jupiter?", k=3, top_k=4)
    assert merged.extra["retriever"] == "bm25" and merged.extra["passages"][0]["rank"] == 1
    assert [s.score for s in merged.answers] == sorted((s.score for s in merged.answers), reverse=True)
    for span in merged.answers:
        assert Path(span.source).read_text(encoding="utf-8")[span.start : span.end] == span.text

    whole = CorpusReader(tiny_engine, index, retriever="whole").ask("Where does the Amazon rise?", top_k=2)
    assert len(whole) == 3 and all(a.extra["passage"]["start"] == 0 for a in whole)


def test_merge_answers_takes_the_lowest_null_score_and_renormalises():
    from qa_tui.engine import Answer, NoAnswer
    from qa_tui.retrieval.reader import SourcedSpan, merge_answers

    def span(text, score, source):
        return SourcedSpan(text, 0, len(text), score, 0.9, source=source, passage=1)

    a = Answer("q", [span("alpha", 2.0, "a.txt"), span("beta", 1.0, "a.txt")], NoAnswer(3.0, 0.1), True)
    b = Answer("q", [span("gamma", 4.0, "b.txt")], NoAnswer(1.0, 0.1), False)
    merged = merge_answers("q", [a, b], top_k=2, null_threshold=0.0)
    assert [s.text for s in merged.answers] == ["gamma", "alpha"]
    assert merged.no_answer.score == 1.0 and not merged.is_impossible
    expected = np.exp([4.0, 2.0]) / np.exp([4.0, 2.0, 1.0, 1.0]).sum()
    assert [s.probability for s in merged.answers] == pytest.approx(expected.tolist())
    assert merged.answers[0].source == "b.txt"
    assert merge_answers("q", [], 3, 0.0).is_impossible


# --- the command line -----------------------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def ask_docs(runner, tiny_model_dir, index_dir, *args):
    from qa_tui.cli import app

    return runner.invoke(
        app,
        ["ask", "--model", str(tiny_model_dir), "--device", "cpu", "--precision", "fp32",
         "--index-dir", str(index_dir), *args],
    )


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_cli_docs_json_has_sources_and_file_offsets(runner, tiny_model_dir, corpus, tmp_path):
    result = ask_docs(
        runner, tiny_model_dir, tmp_path / "idx", "--docs", str(corpus), "-q", "Who tested the first vaccine?",
        "--json", "--passages", "2", "-k", "3",
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["retriever"] == "hybrid" and len(record["passages"]) == 2
    assert record["model"] == str(tiny_model_dir) and "no_answer" in record and len(record["answers"]) == 3
    assert Path(record["passages"][0]["source"]).name == "vaccines.md"
    for answer in record["answers"]:
        text = Path(answer["source"]).read_text(encoding="utf-8")
        assert text[answer["start"] : answer["end"]] == answer["text"]


def test_cli_docs_table_single_file_retrieves_within_it_and_globs(runner, tiny_model_dir, corpus, tmp_path):
    result = ask_docs(
        runner, tiny_model_dir, tmp_path / "idx", "--docs", str(corpus / "solar.txt"), "-q", "What is Mars?",
    )
    assert result.exit_code == 0, result.output
    assert "solar.txt" in result.stdout and "retriever hybrid" in result.stdout
    # `--docs a b c` (what a shell glob gives) takes all the files.
    result = ask_docs(
        runner, tiny_model_dir, tmp_path / "idx", "-q", "What is Mars?", "--retriever", "whole", "--json",
        "--docs", *sorted(str(p) for p in corpus.iterdir()),
    )
    assert result.exit_code == 0, result.output
    assert len({p["source"] for p in json.loads(result.stdout)["passages"]}) == 3


def test_cli_mixed_in_bad_files_are_counted_and_named_with_verbose(runner, tiny_model_dir, corpus, tmp_path):
    (corpus / "latin.txt").write_bytes("caf\u00e9".encode("latin-1"))
    (corpus / "blob.txt").write_bytes(b"\x00\x01\x02")
    args = ["--docs", str(corpus), "-q", "Where does the Nile end?", "--retriever", "bm25", "--json"]
    quiet = ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args)
    assert quiet.exit_code == 0, quiet.output
    assert "skipped 2 of 5 file(s)" in quiet.stderr and "latin.txt" not in quiet.stderr
    json.loads(quiet.stdout)
    verbose = ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args, "--verbose")
    assert verbose.exit_code == 0, verbose.output
    assert "latin.txt: not valid utf-8" in verbose.stderr and "blob.txt" in verbose.stderr


def test_cli_changed_file_is_reindexed(runner, tiny_model_dir, corpus, tmp_path):
    args = ["--docs", str(corpus), "-q", "Which river is longest?", "--retriever", "bm25", "--json"]
    assert ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args).exit_code == 0
    (corpus / "rivers.txt").write_text("The Volga is the longest river in Europe.\n", encoding="utf-8")
    result = ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args)
    assert result.exit_code == 0, result.output
    assert "re-indexed 1 changed file" in result.stderr
    record = json.loads(result.stdout)
    rivers = [p for p in record["passages"] if p["source"].endswith("rivers.txt")]
    assert rivers and rivers[0]["end"] == len("The Volga is the longest river in Europe.")


def test_cli_corrupt_index_is_rebuilt_with_a_note(runner, tiny_model_dir, corpus, tmp_path):
    args = ["--docs", str(corpus), "-q", "What is Olympus Mons?", "--retriever", "bm25", "--json"]
    assert ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args).exit_code == 0
    manifest = next((tmp_path / "idx").glob("*/manifest.json"))
    manifest.write_bytes(b"\x00garbage")
    result = ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args)
    assert result.exit_code == 0, result.output
    assert "corrupt" in result.stderr and "rebuilding" in result.stderr
    assert json.loads(result.stdout)["answers"]


def test_cli_empty_folder(runner, tiny_model_dir, tmp_path):
    (tmp_path / "empty").mkdir()
    result = ask_docs(runner, tiny_model_dir, tmp_path / "idx", "--docs", str(tmp_path / "empty"), "-q", "Why?")
    assert_one_line_error(result, "empty folder")


def test_cli_no_readable_files(runner, tiny_model_dir, tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_bytes(b"\x00\x01")
    (junk / "b.pdf").write_bytes(b"%PDF-1.4\nbroken")
    result = ask_docs(runner, tiny_model_dir, tmp_path / "idx", "--docs", str(junk), "-q", "Why?")
    assert_one_line_error(result, "no readable text", "2 file(s) skipped")


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--context", "x.txt"], "--docs replaces --context"),
        (["--passages", "0"], "--passages must be at least 1"),
        (["--retriever", "magic"], "--retriever magic"),
        (["-q", " "], "non-empty --question"),
    ],
)
def test_cli_docs_bad_options(runner, tiny_model_dir, corpus, tmp_path, extra, fragment):
    args = ["--docs", str(corpus)]
    if "-q" not in extra:
        args += ["-q", "Why?"]
    result = ask_docs(runner, tiny_model_dir, tmp_path / "idx", *args, *extra)
    assert_one_line_error(result, fragment)


def test_cli_stray_argument_without_docs(runner, tiny_model_dir, tmp_path):
    result = ask_docs(runner, tiny_model_dir, tmp_path / "idx", "-q", "Why?", "stray.txt")
    assert_one_line_error(result, "unexpected argument 'stray.txt'")


def test_auto_retriever_is_hybrid_and_an_explicit_choice_wins():
    from qa_tui.retrieval.ask import choose_retriever

    assert choose_retriever("auto") == "hybrid"
    assert choose_retriever("bm25") == "bm25"
    assert choose_retriever("whole") == "whole"
    with pytest.raises(UserError, match="--retriever"):
        choose_retriever("magic")


def test_the_dense_encoder_in_bf16_keeps_fp32s_vectors_and_ranking():
    """bf16 autocast (the default where the CPU computes bf16) may only speed the encoder up, not move passages."""
    from qa_tui.retrieval.dense import DenseEncoder

    passages = ["Tides are caused by the Moon's gravity pulling on the oceans.",
                "The printing press was invented by Johannes Gutenberg around 1440.",
                "Severe ARDS raised the 28-day mortality of critically ill patients to 44.4%."]
    queries = ["What causes tides?", "Who invented the printing press?", "How many patients with ARDS died?"]
    fp32, bf16 = DenseEncoder("cpu", precision="fp32"), DenseEncoder("cpu", precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    vectors_32, vectors_16 = fp32.encode(passages), bf16.encode(passages)
    assert vectors_16.dtype == np.float32 and np.allclose(np.linalg.norm(vectors_16, axis=1), 1.0, atol=1e-3)
    assert (vectors_32 * vectors_16).sum(axis=1).min() > 0.999
    assert not np.array_equal(vectors_32, vectors_16), "bf16 ran: its vectors differ in the last digits"
    ranking = lambda encoder, vectors: (encoder.encode(queries) @ vectors.T).argmax(axis=1).tolist()  # noqa: E731
    assert ranking(fp32, vectors_32) == ranking(bf16, vectors_16) == [0, 1, 2]
