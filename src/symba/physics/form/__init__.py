"""FORM programs of squared amplitudes, in one place.

Imports run one way, from the bottom up:

* ``runner``: the FORM binary, its memory setup, one run, its printed expressions.
* ``program``: FORM names (masses, s_ij, denominators), declarations, invariants,
  the printing at the end and the translation of FORM's text back to ours.
* ``colour``: exact SU(3) colour factors of diagram pairs.
* ``dirac``: momenta in FORM text (written out, or one named vector per sum),
  Lorentz structures and the closed Dirac traces after spin sums.
* ``polarisation``: vector polarisation sums (-g, or physical with a reference).
* ``pairs``: the FORM text of one diagram pair M_a conj(M_b).

The programs themselves are written by ``symba.physics.squaring`` (per diagram,
and whole process by pairs) and ``symba.physics.gluon_sums`` (whole process with
two or more external gluons).
"""
