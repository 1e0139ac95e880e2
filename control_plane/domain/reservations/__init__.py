"""Reservations: natural keys made unique in the same append as the events they guard."""
