"""Knowing every resident: profile, care categories, ability assessment, helpers and the contact log."""
