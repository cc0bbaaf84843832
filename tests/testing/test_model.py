"""`EngageModel` as shipped: the real engine agrees with the model, step after step."""

from __future__ import annotations

from hypothesis import settings

from engage_core.testing import EngageModel

TestEngageModel = EngageModel.TestCase
TestEngageModel.settings = settings(stateful_step_count=20, deadline=None)
