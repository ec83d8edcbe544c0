"""The domain core: plans, the meeting calendar, reports, people and the office that ties them; no Flask, no LINE."""
