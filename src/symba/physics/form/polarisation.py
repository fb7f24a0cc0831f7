"""Vector polarisation sums in FORM text.

-g_{mu nu} for every vector, except the gluons given a reference: there the
physical sum -g + (k n + n k)/(k.n), with n the momentum of another external
gluon and 1/(k.n) the symbol ``ikn<leg>``.
"""

from __future__ import annotations

from ..diagrams import DiagramExpr


def default_references(gluon_legs: list[int]) -> dict[int, int]:
    """Each gluon but the last: reference vector = momentum of the next gluon.

    Once all other gluons are physical, k.M = 0 for the last one, so -g suffices there."""
    return {g: gluon_legs[k + 1] for k, g in enumerate(gluon_legs[:-1])}


def polarisation_sums(da: DiagramExpr, db: DiagramExpr, references: dict[int, int]) -> list[str]:
    """One factor per external vector, joining its index in M_a (tag i) and conj(M_b) (tag j)."""
    b_vec = {v.leg: v for v in db.vectors}
    out = []
    for va in da.vectors:
        mu, nu = f"i{va.lorentz}", f"j{b_vec[va.leg].lorentz}"
        if va.leg in references:
            x, r = va.leg + 1, references[va.leg] + 1
            out.append(f"(-d_({mu},{nu})+(p{x}({mu})*p{r}({nu})+p{r}({mu})*p{x}({nu}))*ikn{x})")
        else:
            out.append(f"(-d_({mu},{nu}))")
    return out


def conservation_id(pol: str, x: int, ref: int, n: int, n_in: int) -> str:
    """``id`` for e_x.p_j, j the last leg other than x and its reference, by momentum conservation."""
    sign = [1 if i < n_in else -1 for i in range(n)]  # sum_i sign_i p_i = 0
    j = max(i for i in range(n) if i not in (x, ref))
    rest = "".join(
        f"{'+' if -sign[j] * sign[i] > 0 else '-'}{pol}{x + 1}.p{i + 1}" for i in range(n) if i not in (x, ref, j)
    )
    return f"id {pol}{x + 1}.p{j + 1} = {rest.lstrip('+')};"
