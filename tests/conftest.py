"""Shared test configuration: Hypothesis profiles and the rule that CI never skips.

Profiles: `dev` (default, quick), `ci` (more examples, derandomised). CI=true selects
`ci`; HYPOTHESIS_PROFILE overrides.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
_default = "ci" if os.environ.get("CI") == "true" else "dev"
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", _default))

IN_CI = os.environ.get("CI") == "true"


def require_data(folder: Path) -> None:
    """Skip when a data folder (../shared/conformance/...) is missing on a developer's
    machine; fail in CI (CI=true)."""
    if not folder.is_dir():
        message = f"conformance data missing: {folder}"
        if IN_CI:
            pytest.fail(message + " (CI=true: missing data is a failure)")
        pytest.skip(message)


def require_tools(*tools: str) -> None:
    """Skip when a tool is missing on a developer's machine; fail in CI (CI=true)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"missing tools: {', '.join(missing)}"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing tool is a failure)")
        pytest.skip(message)
