"""Local alert rules: pure evaluation of (state, message, now) into alarms and home actions."""
