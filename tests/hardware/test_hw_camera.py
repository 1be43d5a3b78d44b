"""CameraWorker on real video files written by the camera simulator: buffering, dropping, reconnecting."""

from __future__ import annotations

from pathlib import Path

from hardware.camera import CameraWorker
from hardware.camera.simulator import CameraSimulator, synthetic_frames, write_video
from hardware.common.status import DeviceState


def test_frames_arrive_in_order(tmp_path: Path, wait_for) -> None:
    """GIVEN a 20-frame video WHEN the worker reads it unpaced THEN frames come oldest first with rising seq."""
    video = tmp_path / "v.avi"
    write_video(video, synthetic_frames(20, (160, 120)), 25)
    with CameraWorker(str(video), buffer=50, pace_files=False, loop_files=False) as worker:
        wait_for(lambda: worker.frames_read >= 20)
        frames = [worker.get(timeout=1) for _ in range(5)]
    assert all(f is not None for f in frames)
    assert [f.seq for f in frames] == sorted(f.seq for f in frames)
    assert frames[0].image.shape == (120, 160, 3)


def test_slow_consumer_drops_oldest(tmp_path: Path, wait_for) -> None:
    """GIVEN a buffer of 3 and nobody consuming WHEN 20 frames arrive THEN 3 kept, the rest dropped, newest kept."""
    video = tmp_path / "v.avi"
    write_video(video, synthetic_frames(20, (160, 120)), 25)
    with CameraWorker(str(video), buffer=3, pace_files=False, loop_files=False) as worker:
        wait_for(lambda: worker.frames_read >= 20)
        assert worker.buffered() == 3
        assert worker.frames_dropped >= 17
        latest = worker.latest()
        assert latest is not None and latest.seq == worker.frames_read >= 20
        assert worker.buffered() == 0


def test_missing_source_is_no_device_then_recovers(tmp_path: Path, wait_for) -> None:
    """GIVEN a source that does not exist yet WHEN the worker starts THEN noDevice; once it appears THEN online."""
    video = tmp_path / "late.avi"
    with CameraWorker(str(video), reconnect_delay=0.05, max_reconnect_delay=0.1, pace_files=False) as worker:
        wait_for(lambda: worker.state is DeviceState.NO_DEVICE)
        write_video(video, synthetic_frames(5, (160, 120)), 25)
        wait_for(lambda: worker.state is DeviceState.ONLINE)
        assert worker.get(timeout=2) is not None


def test_camera_simulator_unplug_and_replug(tmp_path: Path, wait_for) -> None:
    """GIVEN the camera simulator WHEN unplugged THEN the worker goes noDevice; WHEN replugged THEN online."""
    sim = CameraSimulator(fps=50, directory=tmp_path).start()
    try:
        with CameraWorker(str(sim.source), reconnect_delay=0.05, max_reconnect_delay=0.1) as worker:
            wait_for(lambda: worker.state is DeviceState.ONLINE)
            assert sim.control("unplug")["plugged"] is False
            wait_for(lambda: worker.state is DeviceState.NO_DEVICE)
            assert worker.status()["device"] == "noDevice"
            sim.control("replug")
            wait_for(lambda: worker.state is DeviceState.ONLINE)
    finally:
        sim.stop()
