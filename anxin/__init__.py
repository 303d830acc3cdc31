"""Code shared by the Anxin gateway, server and simulators: MQTT edge, uplink protocol, ports."""
