"""Compute API response bodies, one module per API resource (named as its handlers in
``resources``): how a view row becomes what Nova answers, kept apart from the handlers so
that a resource module reads as validate, authorize, act, render."""
