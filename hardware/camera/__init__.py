"""Camera capture on a worker thread with reconnect and a bounded, drop-oldest frame buffer."""

from hardware.camera.worker import CameraWorker, Frame

__all__ = ["CameraWorker", "Frame"]
