"""The judge: the process that holds the hidden checks and decides every grade.

engine.py (walk the notebook, budget, restarts), plan.py (which cells run, where each question
is checked), submission.py (read a submission safely), probe.py (a check's view of the worker),
worker_client.py and isolation.py (start and confine the worker), redaction.py (what never
reaches the student), results.py (Gradescope's results.json), outcome.py (typed outcomes).
"""
