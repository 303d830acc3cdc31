"""The home's own voice, buttons and light: what the resident hears, presses and sees on the Pi."""
