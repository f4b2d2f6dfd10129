"""Running the bot: settings, clock, the composition root, polling, pacing, the command line."""
