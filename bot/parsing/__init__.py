"""Pure readers for what members type: no Telegram, no I/O, no clock, so every rule is testable."""
