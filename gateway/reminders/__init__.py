"""Medication and measurement reminders: set by the doctor, pushed to the gateway, spoken at home."""
