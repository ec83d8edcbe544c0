"""A local stand-in for LINE's Messaging API, used by the tests, the benchmarks and `bot.py demo`."""

from ita_bot.line_standin.channels import Channel
from ita_bot.line_standin.events import TINY_JPEG, as_redelivery
from ita_bot.line_standin.server import Call, DeliveredRequest, LineStandIn

__all__ = ["TINY_JPEG", "Call", "Channel", "DeliveredRequest", "LineStandIn", "as_redelivery"]
