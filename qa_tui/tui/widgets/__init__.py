"""The workbench's widgets, one module each."""

from qa_tui.tui.widgets.candidates import CandidatesTable
from qa_tui.tui.widgets.context_pane import ContextPane
from qa_tui.tui.widgets.question_input import QuestionInput
from qa_tui.tui.widgets.run_panel import LossPlot, MetricsPanel, RunHeader
from qa_tui.tui.widgets.status_bar import StatusBar

__all__ = ["CandidatesTable", "ContextPane", "LossPlot", "MetricsPanel", "QuestionInput", "RunHeader", "StatusBar"]
