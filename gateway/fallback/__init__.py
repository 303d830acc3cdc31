"""What the gateway does when the uplink cannot deliver an alarm: SMS through a GSM modem."""
