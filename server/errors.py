"""The server's error tree."""


class ServerError(Exception):
    """Base of every error the server raises on purpose."""


class ProvisionError(ServerError):
    """A provisioning file that cannot be imported."""


class NotFound(ServerError):
    """A record that does not exist."""


class Conflict(ServerError):
    """A state change that is not allowed from the current state."""


class PortInUse(ServerError):
    """A port the server was told to use is taken."""


class DatabaseUnavailable(ServerError):
    """The database cannot be opened or reached (a missing directory, a refused connection)."""
