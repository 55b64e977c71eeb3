"""SQuAD-style data: reading (streamed, validated, repaired) and writing; feature conversion lives in `features`."""

from qa_tui.data.squad import (
    Problem,
    QARecord,
    ValidationReport,
    count_records,
    read_records,
    write_squad_v2,
)

__all__ = ["Problem", "QARecord", "ValidationReport", "count_records", "read_records", "write_squad_v2"]
