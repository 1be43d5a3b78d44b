"""work orders: who fixes a device fault, and how long each step took."""
