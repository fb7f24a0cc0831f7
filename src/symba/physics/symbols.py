"""The symbols of docs/physics.md, each named once: every other module imports them from here.

Plain strings and patterns only (no SymPy, nothing from symba), so the workflow, the
tokenizers and the physics engine can all read them without importing each other.
The orders are fixed: vocabularies are built in them, so token ids depend on them.
"""

from __future__ import annotations

import re

# Coupling symbols, QED's first (the order tokens are named in).
ALL_COUPLINGS: tuple[str, ...] = ("e", "g_s")
# Mass symbols of every model, leptons then quarks (the order tokens are named in).
ALL_MASSES: tuple[str, ...] = ("m_e", "m_mu", "m_tau", "m_u", "m_d", "m_s", "m_c", "m_b", "m_t")
# External legs of a process, at most: the vocabularies hold p_1..p_6 and the s_ij of legs 1..6.
MAX_LEGS = 6
MOMENTA: tuple[str, ...] = tuple(f"p_{k}" for k in range(1, MAX_LEGS + 1))
# s_ij = p_i . p_j, i < j, in the order (1,2), (1,3), ..., (5,6).
DOT_PRODUCTS: tuple[str, ...] = tuple(f"s_{i}{j}" for i in range(1, MAX_LEGS + 1) for j in range(i + 1, MAX_LEGS + 1))
# MARTY's propagator regulator: some imported squares keep it as a symbol.
REGULATOR = "reg_prop"
IMAGINARY_UNIT = "i"

# A mass symbol is "m_" plus letters/digits, so that each has a FORM name ("M" + the rest).
MASS_SYMBOL_RE = re.compile(r"m_[A-Za-z0-9]+")
# A symbol name in expression text (squares of FORM, SymPy and MARTY).
SYMBOL_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
SYMBOL_NAME_RE = re.compile(SYMBOL_NAME_PATTERN)
# Leg symbols, by pattern: "p_3" (group: the leg), "s_13" (groups: the two legs).  Use fullmatch.
MOMENTUM_RE = re.compile(r"p_([1-9])")
DOT_PRODUCT_RE = re.compile(r"s_([1-9])([1-9])")
