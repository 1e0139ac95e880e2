"""The application service: the message bus, the unit of work and the command handlers."""
