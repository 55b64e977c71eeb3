"""qa-tui: a terminal workbench for extractive question answering with BERT-style models."""

__version__ = "0.1.0"
