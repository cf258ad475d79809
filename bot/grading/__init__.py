"""Grading: the Grade schema, the offline grader, LLM graders and agreement metrics."""

from bot.grading.grade import Grade
from bot.grading.offline import OfflineGrader

__all__ = ["Grade", "OfflineGrader"]
