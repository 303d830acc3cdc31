"""The gateway's error tree; boundaries translate foreign errors into these with `raise ... from`."""


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """A configuration file or pushed configuration that cannot be used."""


class ParseError(GatewayError):
    """Bytes or a payload from a device that cannot be understood; carries the reason."""


class FrameError(ParseError):
    """A serial frame that is damaged: bad CRC, bad escape, too long."""


class ImplausibleReading(ParseError):
    """A well-formed measurement outside physiological ranges; never stored as clinical data."""


class OutboxError(GatewayError):
    """The durable outbox could not store or read an entry."""
