"""What a new cloud starts with: Nova's default flavors and a small image catalog."""

from __future__ import annotations

from typing import Any

FLAVORS: list[dict[str, Any]] = [
    {"flavorid": "1", "name": "m1.tiny", "ram": 512, "vcpus": 1, "disk": 1},
    {"flavorid": "2", "name": "m1.small", "ram": 2048, "vcpus": 1, "disk": 20},
    {"flavorid": "3", "name": "m1.medium", "ram": 4096, "vcpus": 2, "disk": 40},
    {"flavorid": "4", "name": "m1.large", "ram": 8192, "vcpus": 4, "disk": 80},
    {"flavorid": "5", "name": "m1.xlarge", "ram": 16384, "vcpus": 8, "disk": 160},
    {"flavorid": "42", "name": "m1.nano", "ram": 64, "vcpus": 1, "disk": 0},
    {"flavorid": "84", "name": "m1.micro", "ram": 128, "vcpus": 1, "disk": 0},
]

IMAGES: list[dict[str, Any]] = [
    {
        "image_id": "70a599e0-31e7-49b7-b260-868f441e862b",
        "name": "cirros-0.6.2-x86_64-disk",
        "size": 21430272, "min_ram": 0, "min_disk": 0, "disk_format": "qcow2",
        "metadata": {"architecture": "x86_64", "os_distro": "cirros",
                     "hw_disk_bus": "virtio"},
    },
    {
        "image_id": "0b2c1a7e-9d3f-4c55-8e6a-3f1d2c4b5a69",
        "name": "cirros-0.6.2-x86_64-disk-alt",
        "size": 21430272, "min_ram": 0, "min_disk": 0, "disk_format": "qcow2",
        "metadata": {"architecture": "x86_64", "os_distro": "cirros"},
    },
    {
        "image_id": "a2459075-d96c-40d5-893e-577ff92e721c",
        "name": "debian-12-genericcloud-amd64",
        "size": 335544320, "min_ram": 256, "min_disk": 2, "disk_format": "qcow2",
        "metadata": {"architecture": "x86_64", "os_distro": "debian", "os_version": "12"},
    },
]
