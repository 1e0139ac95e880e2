"""The compute worker: follows the log and drives its hypervisors (through ``drivers``),
reporting back by commands."""
