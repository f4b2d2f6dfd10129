"""`lantoa try`: the bot tried in a terminal, against a stand-in of the Telegram Bot API.

- `session`: the command and its session (demo data, the clock, what is typed);
- `standin`: the stand-in of the Bot API, and what people do, as updates;
- `terminal`: what the people at the terminal read;
- `demo`: the people, group and reports of a session;
- `wire` and `telegram_html`: what any in-process Bot API needs (the PTB transport, Telegram's
  reading of HTML), shared with the tests' fuller fake (tests/fakebot).
"""
