"""Cogs: the features of the bot, each receiving Discord events."""
