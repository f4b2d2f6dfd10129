"""The form engine: every conversational form is data (a `Form`) run by one engine."""
