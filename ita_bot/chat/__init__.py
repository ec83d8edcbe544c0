"""The chat edge: the webhook, the durable event journal, event dispatch, conversations and commands."""
