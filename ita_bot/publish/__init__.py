"""Public output: the disclosure pages, the meeting report and its JSON, CSV and DOCX forms."""
