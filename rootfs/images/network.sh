# network: ros's own netlink program (network/, docs/network.md).
ROS_BINS=(ros-network)
