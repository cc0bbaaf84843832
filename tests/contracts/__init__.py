"""Conformance suites: one contract per kind of part (provider adapters, destinations, our
eventsourcing recorders), each a base class that every part of that kind subclasses, so a new
provider or destination gets the whole contract by supplying a few hooks."""
