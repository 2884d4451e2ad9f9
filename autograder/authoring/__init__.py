"""The authoring API: what an assignment's hidden checks, protocol and mistakes are written with.

    from autograder.authoring import Assignment, Fail, Mistake

`Assignment` collects check functions (`@assignment.check(question, name)`); a check takes a
Probe onto the worker and raises `Fail("teaching message")`; `Mistake` is a common wrong answer
as an edit of the reference solution; `training` and `training_checks` drive the training
protocols of the assignments that train the student's model.
"""
from .assignment import Assignment, Check, Fail, UnreadableAnswer
from .mistakes import Alternative, Mistake

__all__ = ["Alternative", "Assignment", "Check", "Fail", "Mistake", "UnreadableAnswer"]
