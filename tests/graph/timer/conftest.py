from __future__ import annotations

import pytest

from tests.factories import Account, Api


@pytest.fixture
async def account(api: Api) -> Account:
    return await api.sign_up()
