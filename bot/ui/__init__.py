"""What the bot shows, in no messenger's terms: screens, buttons, texts, formats."""
