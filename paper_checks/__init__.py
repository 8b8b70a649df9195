"""Numerical checks of the RDPC paper's claims: one module per claim, run by ``rdpc check``.

See :mod:`paper_checks.framework` for the verdicts and the exit-status policy.
"""

from .framework import CHECK_NAMES, VERDICTS, CheckRecord, CheckResult, Profile, run_checks

__all__ = ["CHECK_NAMES", "VERDICTS", "CheckRecord", "CheckResult", "Profile", "run_checks"]
