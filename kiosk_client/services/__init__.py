"""I/O adapters the workers drive: peripherals, camera and face, speech, local state. No Qt."""
