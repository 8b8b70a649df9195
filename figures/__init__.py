"""Figures drawn from library outputs (theory curves) and run results; imported by nothing.

``rdpc figures theory --out DIR`` draws the theory figures (:mod:`figures.theory`).
"""

__all__: list[str] = []
