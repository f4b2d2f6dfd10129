"""A bare python-telegram-bot 22 echo bot with PTB's default settings: the baseline of the
per-update cost (bench/interactive.py runs it as a subprocess against the fake Bot API).

    python -m bench.echo_bot --url http://127.0.0.1:PORT --token 123:ABC
"""

from __future__ import annotations

import argparse

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="Bot API root, e.g. http://127.0.0.1:8081")
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    application = (Application.builder().token(args.token).base_url(f"{args.url}/bot")
                   .base_file_url(f"{args.url}/file/bot").build())
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling()


if __name__ == "__main__":
    main()
