"""ITA follow-up bot: a LINE bot that follows up an SAO's integrity-and-transparency measures."""

__version__ = "0.1.0"
