"""The kiosk's pure core: the customer flow state machine, texts, numbering, masking. No Qt, no I/O."""
