"""Thin Telegram adapters over the core: one module per user-facing flow."""
