"""referrals domain: leads for customer managers, from rules or staff, tracked to their outcome."""
