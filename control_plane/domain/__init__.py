"""Pure aggregates, one package per aggregate; every event type is listed in ``registry``."""
