from .factories import MEMORY, NVME, codes, part, rig, run, with_


def test_capacity_figures():
    r = run(rig(gpus=2))
    c = r.capacity
    assert c["vram_gb"] == 48 and c["ram_gb"] == 64 and c["nvme_gb"] == 2000 and c["storage_gb"] == 2000
    assert r.compute["bf16_tflops"] == 330


def test_ram_below_2x_vram():
    r = run(rig(gpus=2))  # 64 GB RAM for 48 GB VRAM
    (f,) = r.find("RAM_BELOW_2X_VRAM")
    assert "64 GB" in f.message and "96 GB" in f.message
    big = part("memory", with_(MEMORY, modules=2, module_gb=48))
    assert "RAM_BELOW_2X_VRAM" not in codes(rig(gpus=2, memory=big))  # 96 GB


def test_no_nvme():
    sata = part("storage", {"interface": "sata_ssd", "capacity_gb": 4000}, "SATA")
    assert "NO_NVME" in codes(rig(nvme=sata))
    assert "NO_NVME" not in codes(rig())


def test_storage_small():
    small = part("storage", with_(NVME, capacity_gb=1000), "1TB")
    r = run(rig(nvme=small))
    (f,) = r.find("STORAGE_SMALL")
    assert "1,000 GB" in f.message
    assert "STORAGE_SMALL" not in codes(rig())  # 2 TB
