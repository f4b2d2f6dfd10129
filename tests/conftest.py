from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import Harness, started

# The repo's config.toml is the default; tests must not pick up a developer's environment.
for variable in [v for v in os.environ if v.startswith("LANTOA_")]:
    del os.environ[variable]


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with started(tmp_path) as harness:
        yield harness
