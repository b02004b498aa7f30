# cloud-init: the first-boot one-shot, `ros cloud-init` (docs/config.md).
ROS_BINS=(ros)
