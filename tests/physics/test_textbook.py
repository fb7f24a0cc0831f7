"""Whole-process spin-averaged squared amplitudes from the literature.

Each formula is written here from the cited source and evaluated at random physical
points.  They check both the brute force (bruteforce.py) and the engine.  The
conventions of docs/physics.md add 1/k! for k identical final-state particles, which the
textbook formulas leave out.  Dot products: ``d(i, j) = p_i . p_j``; Mandelstam
s = (p1+p2)^2, t = (p1-p3)^2, u = (p1-p4)^2.
"""

from __future__ import annotations

import itertools

import pytest

from symba.physics.kinematics import evaluate, random_point
from symba.physics.process import generate_feyngraph_diagrams, parse_process

from .bruteforce import BruteForce, kinematics_from_point

SEEDS = (11, 12, 13)


class Point:
    """Dot products, masses and couplings of one random physical point, as floats."""

    def __init__(self, proc, seed, zero_masses=()):
        self.raw = random_point(proc.leg_masses(), proc.n_in, seed, zero_masses=zero_masses)
        assert self.raw.physical
        self.values = self.raw.values()
        self.e = float(self.values["e"])
        self.gs = float(self.values["g_s"])
        self.masses = {k: float(v) for k, v in self.raw.masses.items()}

    def d(self, i, j):
        return float(self.raw.dot(i - 1, j - 1))

    def mandelstam(self):
        m2 = [self.d(i, i) for i in range(1, 5)]
        s = m2[0] + m2[1] + 2 * self.d(1, 2)
        t = m2[0] + m2[2] - 2 * self.d(1, 3)
        u = m2[0] + m2[3] - 2 * self.d(1, 4)
        return s, t, u


# ---------------------------------------------------------------- QED
def ee_to_mumu(pt):
    # Peskin & Schroeder eq. (5.10), with the electron mass kept (P&S problem 5.2 / Halzen & Martin
    # eq. (6.30) generalised): (1/4) sum |M|^2 = 8 e^4/q^4 [(p.k)(p'.k') + (p.k')(p'.k)
    #   + m_mu^2 (p.p') + m_e^2 (k.k') + 2 m_e^2 m_mu^2], q = p + p'.  p=p1, p'=p2, k=p3, k'=p4.
    me, mm = pt.masses["m_e"], pt.masses["m_mu"]
    q2 = 2 * me**2 + 2 * pt.d(1, 2)
    return (
        8
        * pt.e**4
        / q2**2
        * (
            pt.d(1, 3) * pt.d(2, 4)
            + pt.d(1, 4) * pt.d(2, 3)
            + mm**2 * pt.d(1, 2)
            + me**2 * pt.d(3, 4)
            + 2 * me**2 * mm**2
        )
    )


def bhabha(pt):
    # Massless Bhabha, Peskin & Schroeder problem 5.2 / Halzen & Martin exercise 6.7:
    # (1/4) sum |M|^2 = 2 e^4 [(s^2 + u^2)/t^2 + 2 u^2/(s t) + (u^2 + t^2)/s^2].
    s, t, u = pt.mandelstam()
    return 2 * pt.e**4 * ((s**2 + u**2) / t**2 + 2 * u**2 / (s * t) + (u**2 + t**2) / s**2)


def moller(pt):
    # Massless Moller, Halzen & Martin exercise 6.6 (crossing of Bhabha):
    # (1/4) sum |M|^2 = 2 e^4 [(s^2 + u^2)/t^2 + 2 s^2/(t u) + (s^2 + t^2)/u^2], times 1/2! here.
    s, t, u = pt.mandelstam()
    return 2 * pt.e**4 * ((s**2 + u**2) / t**2 + 2 * s**2 / (t * u) + (s**2 + t**2) / u**2) / 2


def compton(pt):
    # Klein-Nishina, Peskin & Schroeder eq. (5.87), massive electron: p = p1, k = p2 (photon in),
    # k' = p4 (photon out): (1/4) sum |M|^2 = 2 e^4 [p.k'/p.k + p.k/p.k'
    #   + 2 m^2 (1/p.k - 1/p.k') + m^4 (1/p.k - 1/p.k')^2].
    m = pt.masses["m_e"]
    pk, pkp = pt.d(1, 2), pt.d(1, 4)
    return 2 * pt.e**4 * (pkp / pk + pk / pkp + 2 * m**2 * (1 / pk - 1 / pkp) + m**4 * (1 / pk - 1 / pkp) ** 2)


def ee_to_aa(pt):
    # Pair annihilation, Peskin & Schroeder eq. (5.105), massive: p = p1, k1 = p3, k2 = p4:
    # (1/4) sum |M|^2 = 2 e^4 [p.k2/p.k1 + p.k1/p.k2 + 2 m^2 (1/p.k1 + 1/p.k2)
    #   - m^4 (1/p.k1 + 1/p.k2)^2], times 1/2! for the identical photons.
    m = pt.masses["m_e"]
    a, b = pt.d(1, 3), pt.d(1, 4)
    return 2 * pt.e**4 * (b / a + a / b + 2 * m**2 * (1 / a + 1 / b) - m**4 * (1 / a + 1 / b) ** 2) / 2


# ---------------------------------------------------------------- QCD, massless quarks
# Ellis, Stirling & Webber, "QCD and collider physics", Table 7.1: spin- and colour-averaged
# sum |M|^2 / g^4, identical-particle factors not included.
def qqbar_to_qpqpbar(pt):
    s, t, u = pt.mandelstam()
    return pt.gs**4 * 4 / 9 * (t**2 + u**2) / s**2


def qqbar_to_gg(pt):
    s, t, u = pt.mandelstam()
    return pt.gs**4 * (32 / 27 * (t**2 + u**2) / (t * u) - 8 / 3 * (t**2 + u**2) / s**2) / 2


def qg_to_qg(pt):
    s, t, u = pt.mandelstam()
    return pt.gs**4 * (-4 / 9 * (s**2 + u**2) / (s * u) + (u**2 + s**2) / t**2)


def gg_to_gg(pt):
    s, t, u = pt.mandelstam()
    return pt.gs**4 * 9 / 2 * (3 - t * u / s**2 - s * u / t**2 - s * t / u**2) / 2


def qq_to_qq(pt):
    # ESW Table 7.1, identical quarks q q -> q q, times 1/2!.
    s, t, u = pt.mandelstam()
    return pt.gs**4 * (4 / 9 * ((s**2 + u**2) / t**2 + (s**2 + t**2) / u**2) - 8 / 27 * s**2 / (u * t)) / 2


# Heavy-quark pair production, Ellis, Stirling & Webber Table 10.1 (Combridge, Nucl. Phys. B151
# (1979) 429), averaged: tau1 = 2 p1.p3/s, tau2 = 2 p2.p3/s, rho = 4 m^2/s, light quarks massless.
def _heavy(pt):
    s, _, _ = pt.mandelstam()
    return 2 * pt.d(1, 3) / s, 2 * pt.d(2, 3) / s, 4 * pt.masses["m_t"] ** 2 / s


def qqbar_to_heavy(pt):
    t1, t2, rho = _heavy(pt)
    return pt.gs**4 * 4 / 9 * (t1**2 + t2**2 + rho / 2)


def gg_to_heavy(pt):
    t1, t2, rho = _heavy(pt)
    return pt.gs**4 * (1 / (6 * t1 * t2) - 3 / 8) * (t1**2 + t2**2 + rho - rho**2 / (4 * t1 * t2))


CASES = [
    # process, theory, masses set to zero, formula
    ("e- e+ -> mu- mu+", "qed", (), ee_to_mumu),
    ("e- e+ -> e- e+", "qed", ("m_e",), bhabha),
    ("e- e- -> e- e-", "qed", ("m_e",), moller),
    ("e- a -> e- a", "qed", (), compton),
    ("e- e+ -> a a", "qed", (), ee_to_aa),
    ("u u~ -> d d~", "qcd", ("m_u", "m_d"), qqbar_to_qpqpbar),
    ("u u~ -> g g", "qcd", ("m_u",), qqbar_to_gg),
    ("u g -> u g", "qcd", ("m_u",), qg_to_qg),
    ("g g -> g g", "qcd", (), gg_to_gg),
    ("u u -> u u", "qcd", ("m_u",), qq_to_qq),
    ("u u~ -> t t~", "qcd", ("m_u",), qqbar_to_heavy),
    ("g g -> t t~", "qcd", (), gg_to_heavy),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("text, theory, zero, formula", CASES, ids=IDS)
def test_bruteforce_matches_textbook(text, theory, zero, formula):
    proc = parse_process(text, theory)
    brute = BruteForce(proc)
    for seed in SEEDS:
        pt = Point(proc, seed, zero)
        got = brute.squared_process(kinematics_from_point(pt.raw, proc.n_in))
        assert got == pytest.approx(formula(pt), rel=1e-9)


@pytest.mark.parametrize("text, theory, zero, formula", CASES, ids=IDS)
def test_engine_matches_textbook(text, theory, zero, formula, engine_result):
    proc = parse_process(text, theory)
    result = engine_result(text, theory)
    for seed in SEEDS:
        pt = Point(proc, seed, zero)
        got = float(evaluate(result.squared_amplitude, pt.values))
        assert got == pytest.approx(formula(pt), rel=1e-9)


# ---------------------------------------------------------------- docs/physics.md worked examples (per diagram)
def worked_ee_to_ff(mass_symbol, charge2):
    def formula(pt):
        # docs/physics.md: 2 e^4 (s13 s24 + s14 s23 + m_f^2 s12 + m_e^2 s34 + 2 m_e^2 m_f^2)/(m_e^2 + s12)^2, times Q_f^2
        me, mf = pt.masses["m_e"], pt.masses[mass_symbol]
        return (
            charge2
            * 2
            * pt.e**4
            * (
                pt.d(1, 3) * pt.d(2, 4)
                + pt.d(1, 4) * pt.d(2, 3)
                + mf**2 * pt.d(1, 2)
                + me**2 * pt.d(3, 4)
                + 2 * me**2 * mf**2
            )
            / (me**2 + pt.d(1, 2)) ** 2
        )

    return formula


def worked_ee_to_aa_t_channel(pt):
    # docs/physics.md: massless, the diagram with propagator p_1 - p_3 gives e^4 s14 s24 / s13^2 (1/2 included)
    return pt.e**4 * pt.d(1, 4) * pt.d(2, 4) / pt.d(1, 3) ** 2


WORKED = [
    # process, masses set to zero, which diagram (by its fermion-propagator momentum; None: the only one), formula
    ("e- e+ -> mu- mu+", (), None, worked_ee_to_ff("m_mu", 1)),
    ("e- e+ -> u u~", (), None, worked_ee_to_ff("m_u", 4 / 9)),
    ("e- e+ -> a a", ("m_e",), (1, 0, -1, 0), worked_ee_to_aa_t_channel),
]


def _diagram_index(proc, momentum):
    diagrams = generate_feyngraph_diagrams(proc)
    if momentum is None:
        assert len(diagrams) == 1
        return 0
    found = [
        k
        for k, d in enumerate(diagrams)
        if any(tuple(p.momentum()) in (momentum, tuple(-x for x in momentum)) for p in d.propagators())
    ]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("text, zero, momentum, formula", WORKED, ids=[w[0] for w in WORKED])
def test_bruteforce_matches_worked_examples(text, zero, momentum, formula):
    proc = parse_process(text, "qed")
    index = _diagram_index(proc, momentum)
    brute = BruteForce(proc)
    for seed in SEEDS:
        pt = Point(proc, seed, zero)
        got = brute.squared_per_diagram(kinematics_from_point(pt.raw, proc.n_in))[index]
        assert got == pytest.approx(formula(pt), rel=1e-9)


@pytest.mark.parametrize("text, zero, momentum, formula", WORKED, ids=[w[0] for w in WORKED])
def test_engine_matches_worked_examples(text, zero, momentum, formula, engine_result):
    proc = parse_process(text, "qed")
    index = _diagram_index(proc, momentum)
    result = engine_result(text, "qed")
    for seed in SEEDS:
        pt = Point(proc, seed, zero)
        got = float(evaluate(result.diagrams[index].squared_amplitude, pt.values))
        assert got == pytest.approx(formula(pt), rel=1e-9)


# ---------------------------------------------------------------- five gluons (brute force only)
def parke_taylor_sum(momenta, gs, n_colours=3):
    """Sum over colours and helicities of |M(g...g)|^2, all momenta outgoing.

    Parke & Taylor, PRL 56 (1986) 2459; Mangano & Parke, Phys. Rep. 200 (1991) 301, sec. 3:
    g^{2n-4} N^{n-2} (N^2-1) sum_{i<j} s_ij^4 sum_{orderings in S_n/Z_n} 1/(s_12 s_23 ... s_n1),
    s_ij = 2 k_i.k_j, exact at leading colour for n <= 5.  Each MHV term comes with its
    parity conjugate for n = 5 (factor 2); for n = 4 the two coincide.
    """
    n = len(momenta)
    s = [[2 * float(a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]) for b in momenta] for a in momenta]
    numerator = sum(s[i][j] ** 4 for i in range(n) for j in range(i + 1, n))
    denominator = 0.0
    for rest in itertools.permutations(range(1, n)):
        order = (0,) + rest
        product = 1.0
        for k in range(n):
            product *= s[order[k]][order[(k + 1) % n]]
        denominator += 1 / product
    helicity_copies = 2 if n == 5 else 1
    return gs ** (2 * n - 4) * n_colours ** (n - 2) * (n_colours**2 - 1) * helicity_copies * numerator * denominator


@pytest.mark.parametrize("text", ["g g -> g g", "g g -> g g g"])
def test_bruteforce_matches_parke_taylor(text):
    # The engine is not compared here: g g -> g g g costs it many minutes.
    proc = parse_process(text, "qcd")
    brute = BruteForce(proc)
    for seed in SEEDS[:2]:
        pt = Point(proc, seed)
        outgoing = [[-x for x in p] if k < proc.n_in else p for k, p in enumerate(pt.raw.momenta)]
        summed = brute.squared_process(kinematics_from_point(pt.raw, proc.n_in)) / brute.average_factor()
        assert summed == pytest.approx(parke_taylor_sum(outgoing, pt.gs), rel=1e-9)
