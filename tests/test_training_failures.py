"""A training check that meets a broken model loses only its question, and says what happened.

The broken model is sequence-memory's LSTMPredictor (q2), so q1 and q3 must keep their points.
Only the sleeping model needs short limits (to fail fast); they are multiplied by a factor measured
on the machine when the test runs (conftest.time_scale), so that the honest training of q1 and q3
still fits in them on a busy machine. The other cases keep the checks' own timeouts.
"""
import time

import pytest

from autograder.authoring.mistakes import replace_in_cell
from autograder.tools.hostile.measure import SLACK
from conftest import messages, time_scale

pytestmark = pytest.mark.slow  # make test-fast skips this file

FORWARD = "out, _ = self.lstm(self.embedding(x))  # out: (batch, seq_len, hidden_size)"
RETURN = "return self.fc(out)    # (batch, seq_len, output_size)\n        # END SOLUTION\n\n\nprint(\"parameters of LSTMPredictor"

CASES = {
    "raises in forward": (FORWARD, "raise RuntimeError('boom')", "raised RuntimeError"),
    "wrong shape": (RETURN, "return self.fc(out[:, -1])\n        # END SOLUTION\n\n\nprint(\"parameters of LSTMPredictor",
                    "returned shape (3, 10)"),
    "never converges": (RETURN, "return 0 * self.fc(out)\n        # END SOLUTION\n\n\nprint(\"parameters of LSTMPredictor",
                        "Validation accuracy"),
    "sleeps past the limit": (FORWARD, "import time; time.sleep(10 ** 6)", "did not finish within {limit:.0f} s"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_model_loses_only_its_question(published, grade, case):
    anchor, replacement, message = CASES[case]
    _, solution = published("sequence-memory")
    scale = time_scale()
    # the notebook's own cells that call the sleeping forward hang too: a short cell timeout
    # (each reference cell takes under 5 s on an idle machine) keeps this case from waiting 60 s
    # on each, and a short check timeout from waiting 150 s on the sleeping training
    sleeps = "sleeps" in case
    check_timeout, cell_timeout, budget = (5 * scale, 15 * scale, 200 * scale) if sleeps else (None, None, 300 * scale)
    started = time.monotonic()
    results, table = grade("sequence-memory", replace_in_cell(solution, anchor, replacement),
                           check_timeout=check_timeout, budget=budget, cell_timeout=cell_timeout)
    assert time.monotonic() - started < budget + SLACK * scale
    assert table["q2"][0] < table["q2"][1]
    message = message.format(limit=check_timeout or 0)
    assert message in messages(results, "q2"), messages(results, "q2")
    assert table["q1"][0] == table["q1"][1] and table["q3"][0] == table["q3"][1]


def test_a_model_that_prints_is_graded_like_a_quiet_one(published, grade):
    _, solution = published("sequence-memory")
    noisy = replace_in_cell(solution, FORWARD, "print('forward', x.shape, x)\n        " + FORWARD)
    results, _ = grade("sequence-memory", noisy)
    assert results["score"] == 10
