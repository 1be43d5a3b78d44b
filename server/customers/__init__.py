"""customers domain: customers, identities, consents, face templates, recognition, tags and tiers."""
