"""The LINE edge: the one client over line-bot-sdk v3 and the message kit with LINE's limits."""
