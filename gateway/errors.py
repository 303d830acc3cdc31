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


class ModemError(GatewayError):
    """The GSM modem did not do what it was asked."""


class ModemTimeout(ModemError):
    """The modem did not answer in time."""


class SmsRejected(ModemError):
    """The modem or network refused a message (`+CMS ERROR: <code>`)."""

    def __init__(self, code: int, text: str = "") -> None:
        super().__init__(f"+CMS ERROR: {code}{' ' + text if text else ''}")
        self.code = code
