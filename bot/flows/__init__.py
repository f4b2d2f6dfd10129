"""What people do with the bot: one module per feature, named as in every layer."""
