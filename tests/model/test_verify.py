"""Verified decoding: physics checks of a candidate square made without its answer.

The truth here is the textbook square of docs/physics.md section 4 (e- e+ -> mu- mu+), written
by hand; each wrong candidate breaks one property and must be rejected by the check named."""

from __future__ import annotations

import pytest

from symba.model.metrics import Outcome, verification_summary
from symba.model.numeric import NumericChecker
from symba.model.search import first_passing
from symba.model.verify import CHECKS, verify_candidate

PROCESS = "e- e+ -> mu- mu+"
AMPLITUDE = (
    "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)"
    "/(2*m_e^2 + 2*s_12)"
)
NUM = "(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2)"
TRUTH = f"2*e^4*{NUM}/(m_e^2 + s_12)^2"


def _verdict(candidate, amplitude=AMPLITUDE, process=PROCESS, diagram=0):
    return verify_candidate(candidate, amplitude, process, "qed", diagram)


def test_the_truth_passes_every_check():
    verdict = _verdict(TRUTH)
    assert verdict.passed and verdict.skipped == []
    # the same value written otherwise: the propagator with its factor 2 inside
    assert _verdict(f"8*e^4*{NUM}/(2*m_e^2 + 2*s_12)^2").passed


@pytest.mark.parametrize(
    "candidate, fired",
    [
        ("2*e^4*(s_13 + ", {"parse"}),
        (f"2*e^4*{NUM}/(m_e^2 + s_15)^2", {"parse"}),  # s_15: no fifth leg
        (f"2*e^4*{NUM}*m_tau^2/(m_e^2 + s_12)^3", {"parse"}),  # m_tau: not in the process
        (f"2*e^6*{NUM}/(m_e^2 + s_12)^2", {"coupling", "amplitude_square"}),
        (f"2*e^4*{NUM}/(m_mu^2 + s_12)^2", {"denominator", "amplitude_square"}),
        (f"2*e^4*{NUM}/(m_e^2 + s_12)^3", {"denominator", "dimension", "amplitude_square"}),
        (f"2*e^4*{NUM}*s_12/(m_e^2 + s_12)^2", {"dimension", "amplitude_square"}),
        (f"-2*e^4*{NUM}/(m_e^2 + s_12)^2", {"finite_real_positive", "amplitude_square"}),
        (f"2*i*e^4*{NUM}/(m_e^2 + s_12)^2", {"finite_real_positive", "amplitude_square"}),
        (f"3*e^4*{NUM}/(m_e^2 + s_12)^2", {"amplitude_square"}),  # right in every way but the value
        ("2*e^4*(s_13*s_24 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2)/(m_e^2 + s_12)^2", {"amplitude_square"}),
    ],
)
def test_each_wrong_candidate_is_rejected_by_its_check(candidate, fired):
    verdict = _verdict(candidate)
    assert not verdict.passed
    assert set(verdict.failed) == fired
    assert all(check in CHECKS for check in verdict.failed)


def test_unreadable_amplitude_skips_its_checks_but_not_the_others():
    marty_text = "e^2*gamma({%sigma_1,%del_2,%del_3})*..."  # MARTY's own syntax, kept by an import
    verdict = _verdict(TRUTH, amplitude=marty_text)
    assert verdict.passed
    assert set(verdict.skipped) == {"coupling", "denominator", "amplitude_square"}
    wrong = _verdict(f"2*e^4*{NUM}*s_12/(m_e^2 + s_12)^2", amplitude=marty_text)
    assert wrong.failed == ["dimension"]


def test_whole_process_row_uses_physical_sums():
    """e- e+ -> a a, whole process, masses zero only in the value check's truth: the massive
    square written by hand from P&S (5.105) is long, so check the massless row with massless=."""
    amplitude = (
        "(i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*(slash(p_1 - p_3,d2,d3) + m_e*one(d2,d3))*gamma(mu2,d3,d4)"
        "*u(e,p_1,d4)*epsc(A,p_3,mu2)*epsc(A,p_4,mu1)/(-2*s_13))"
        " + (i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*(slash(p_1 - p_4,d2,d3) + m_e*one(d2,d3))*gamma(mu2,d3,d4)"
        "*u(e,p_1,d4)*epsc(A,p_3,mu1)*epsc(A,p_4,mu2)/(-2*s_14))"
    )
    # 2 e^4 (u/t + t/u) / 2 with t = -2 s_13, u = -2 s_14 (massless)
    truth = "e^4*(s_13^2 + s_14^2)/(s_13*s_14)"
    ok = verify_candidate(truth, amplitude, "e- e+ -> a a", "qed", -1, massless=("m_e",))
    assert ok.passed, ok
    wrong = verify_candidate("e^4*s_14/s_13", amplitude, "e- e+ -> a a", "qed", -1, massless=("m_e",))
    assert wrong.failed == ["amplitude_square"]


def test_checker_worker_verifies_and_the_first_passing_beam_answers():
    with NumericChecker(timeout_s=60) as checker:
        wrong = checker.verify(f"3*e^4*{NUM}/(m_e^2 + s_12)^2", AMPLITUDE, PROCESS, "qed", 0)
        right = checker.verify(TRUTH, AMPLITUDE, PROCESS, "qed", 0)
    assert wrong["failed"] == ["amplitude_square"] and right["failed"] == []
    assert first_passing([not wrong["failed"], not right["failed"]]) == 1
    assert first_passing([False, False]) is None


def _outcome(numeric_ok, verified, pick=0, top1=None, fired=None):
    return Outcome(
        "qed", "2->2", 5, 5, 6, numeric_ok, numeric_ok, 1, 2, -1.0, -0.1,
        verified=verified, pick=pick, top1_sequence_ok=top1, top1_numeric_ok=top1,
        candidates=2, fired=fired or {}, skipped={},
    )  # fmt: skip


def test_verification_summary_counts():
    outcomes = [
        _outcome(True, True, pick=1, top1=False, fired={"amplitude_square": 1}),
        _outcome(True, True, top1=True),
        _outcome(False, False, top1=False, fired={"parse": 2}),
        _outcome(False, True, top1=False),
    ]
    s = verification_summary(outcomes)
    assert s["candidates"] == 8
    assert s["fired"] == {"amplitude_square": 1, "parse": 2}
    assert s["rows_with_passing_candidate"] == 3
    assert s["verified_topk_accuracy"] == pytest.approx(2 / 4)
    assert s["accepted_accuracy"] == pytest.approx(2 / 3)
    assert s["accuracy_after_fallback"] == pytest.approx(3 / 4)  # the row with none passing is recomputed
    assert s["unverified_top1_numeric_accuracy"] == pytest.approx(1 / 4)
    assert s["answer_below_top_beam"] == 1


def test_score_answers_with_the_first_beam_that_passes(vocab_path):
    """The top beam is wrong (3 instead of 2), the second right: verified decoding answers with
    the second, and reports the top beam's miss beside it."""
    from symba.model import batches
    from symba.model.evaluate import VerifyOptions, _score
    from symba.model.numeric import expression_tokens
    from symba.model.search import Hypothesis

    from .model_test_data import NOTATION

    vocab = batches.load_vocab(vocab_path)
    specials = batches.Specials(vocab)
    right = vocab.encode(expression_tokens(TRUTH, NOTATION))
    wrong = vocab.encode(expression_tokens(f"3*e^4*{NUM}/(m_e^2 + s_12)^2", NOTATION))
    row = {"process": PROCESS, "theory": "qed", "multiplicity": "2->2", "diagram": 0}
    row.update(amplitude=AMPLITUDE, squared=TRUTH)
    ex = batches.Example(specials.wrap(right), specials.wrap(right), row)
    hyps = [Hypothesis(wrong, -1.0, True, -1.0), Hypothesis(right, -2.0, True, -2.0)]
    with NumericChecker(timeout_s=60) as checker:
        plain = _score(checker, ex, hyps, vocab, NOTATION, specials)
        verified = _score(checker, ex, hyps, vocab, NOTATION, specials, verify=VerifyOptions())
    assert not plain.numeric_ok and plain.verified is None
    assert verified.verified and verified.pick == 1
    assert verified.numeric_ok and verified.sequence_ok and not verified.top1_numeric_ok
    assert verified.candidates == 2 and verified.fired == {"amplitude_square": 1}


def test_a_beam_naming_a_leg_the_process_lacks_is_rejected_not_a_crash(vocab_path):
    """A 2->2 row decoded with its legs relabelled: a beam with s_15 names a fifth leg.  It is no
    expression of the row's process (the model's output is never trusted); the next beam answers."""
    from symba.model import batches
    from symba.model.evaluate import VerifyOptions, _score
    from symba.model.numeric import expression_tokens
    from symba.model.search import Hypothesis
    from symba.physics.leg_relabelling import DecodeLabelling

    from .model_test_data import NOTATION

    vocab = batches.load_vocab(vocab_path)
    specials = batches.Specials(vocab)
    right = vocab.encode(expression_tokens(TRUTH, NOTATION))
    fifth_leg = vocab.encode(expression_tokens(f"e^4*{NUM}/(m_e^2 + s_15)^2", NOTATION))
    row = {"process": PROCESS, "theory": "qed", "multiplicity": "2->2", "diagram": 0}
    row.update(amplitude=AMPLITUDE, squared=TRUTH)
    ex = batches.Example(specials.wrap(right), specials.wrap(right), row)
    hyps = [Hypothesis(fifth_leg, -1.0, True, -1.0), Hypothesis(right, -2.0, True, -2.0)]
    identity = DecodeLabelling.from_text("1,2,3,4")
    with NumericChecker(timeout_s=60) as checker:
        plain = _score(checker, ex, hyps, vocab, NOTATION, specials, relabelling=identity)
        verified = _score(checker, ex, hyps, vocab, NOTATION, specials, relabelling=identity, verify=VerifyOptions())
    assert not plain.numeric_ok and plain.beams_equivalent == 1
    assert verified.verified and verified.pick == 1 and verified.numeric_ok
