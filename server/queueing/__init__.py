"""Queueing and flow routing: tickets, counters, routing rules, calling policy, wait estimates, the board."""
