"""What every device shares: XFS4IoT-style states, errors, framing, identity helpers."""
