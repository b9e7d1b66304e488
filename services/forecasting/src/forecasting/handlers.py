"""Inbound events. Each handler runs in a unit of work with the inbox; it takes effect once."""

from servicekit.messaging import HandlerRegistry

handlers = HandlerRegistry()
