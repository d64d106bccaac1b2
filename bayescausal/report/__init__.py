"""Reports: self-contained HTML, Markdown, summary JSON and the posterior, written atomically."""

from bayescausal.report.writer import write_index, write_report

__all__ = ["write_index", "write_report"]
