from .factories import BOARD, CASE, COOLER, CPU, GPU, MEMORY, NVME, codes, part, rig, run, with_


def test_base_rig_is_clean():
    r = run(rig())
    assert not r.errors
    assert {f.code for f in r.findings} <= {"PSU_EFFICIENCY_PAYBACK"}


def test_socket_mismatch_names_both_sockets():
    r = run(rig(cpu=part("cpu", with_(CPU, socket="LGA1700", memory_type="DDR5"), "i9")))
    (f,) = r.find("SOCKET_MISMATCH")
    assert "LGA1700" in f.message and "AM5" in f.message
    assert "SOCKET_MISMATCH" not in codes(rig(cpu=part("cpu", with_(CPU, socket="am5"), "i9")))


def test_memory_type_mismatch():
    assert "MEMORY_TYPE_MISMATCH" in codes(rig(memory=part("memory", with_(MEMORY, memory_type="DDR4"))))
    assert "MEMORY_TYPE_MISMATCH" not in codes(rig())


def test_memory_slots_exceeded():
    kit = part("memory", with_(MEMORY, modules=2, module_gb=16), quantity=3)  # 6 modules, 4 slots
    r = run(rig(memory=kit))
    (f,) = r.find("MEMORY_SLOTS_EXCEEDED")
    assert "6 memory modules" in f.message and "4 DIMM slots" in f.message
    assert "MEMORY_SLOTS_EXCEEDED" not in codes(rig(memory=part("memory", MEMORY, quantity=2)))


def test_memory_capacity_exceeded_uses_the_lower_limit():
    big = part("memory", with_(MEMORY, modules=4, module_gb=64))  # 256 GB > 192 GB
    r = run(rig(memory=big))
    (f,) = r.find("MEMORY_CAPACITY_EXCEEDED")
    assert "256 GB" in f.message and "192 GB" in f.message
    ok = part("memory", with_(MEMORY, modules=4, module_gb=48))  # 192 GB
    assert "MEMORY_CAPACITY_EXCEEDED" not in codes(rig(memory=ok))


def test_form_factor_mismatch_and_superset():
    small = part("case", with_(CASE, form_factors=["Micro-ATX", "Mini-ITX"]), "Small case")
    r = run(rig(case=small))
    (f,) = r.find("FORM_FACTOR_MISMATCH")
    assert "ATX" in f.message
    # an E-ATX case takes ATX boards
    assert "FORM_FACTOR_MISMATCH" not in codes(rig())


def test_gpu_too_long_gives_both_lengths():
    short = part("case", with_(CASE, max_gpu_length_mm=280), "Short case")
    r = run(rig(case=short))
    (f,) = r.find("GPU_TOO_LONG")
    assert "290 mm" in f.message and "280 mm" in f.message
    assert "GPU_TOO_LONG" not in codes(rig(case=part("case", with_(CASE, max_gpu_length_mm=290))))
    open_frame = part("case", with_(CASE, max_gpu_length_mm=280, open_frame=True))
    assert "GPU_TOO_LONG" not in codes(rig(case=open_frame))


def test_cooler_too_tall():
    assert "COOLER_TOO_TALL" in codes(rig(case=part("case", with_(CASE, max_cooler_height_mm=160))))
    assert "COOLER_TOO_TALL" not in codes(rig(case=part("case", with_(CASE, max_cooler_height_mm=165))))


def test_cooler_socket_unsupported():
    intel = part("cooler", with_(COOLER, sockets=["LGA1700"]), "Intel cooler")
    r = run(rig(cooler=intel))
    (f,) = r.find("COOLER_SOCKET_UNSUPPORTED")
    assert "AM5" in f.message
    assert "COOLER_SOCKET_UNSUPPORTED" not in codes(rig())


def test_missing_parts_only_matter_with_gpus():
    c = codes(rig(cpu=None, board=None, psu=None))
    assert {"CPU_MISSING", "BOARD_MISSING", "PSU_MISSING"} <= c
    c = codes(rig(gpus=0, cpu=None, board=None, psu=None))
    assert not c & {"CPU_MISSING", "BOARD_MISSING", "PSU_MISSING"}


def test_gpu_sag_without_brace_only_for_long_or_heavy_cards():
    long_gpu = part("gpu", with_(GPU, length_mm=336), "Long GPU")
    r = run(rig(gpu=long_gpu, brace=None))
    (f,) = r.find("GPU_SAG")
    assert "336 mm" in f.message
    assert "GPU_SAG" not in codes(rig(gpu=long_gpu))  # the base rig has a brace
    short = part("gpu", with_(GPU, length_mm=267), "Short GPU")
    assert "GPU_SAG" not in codes(rig(gpu=short, brace=None))
    heavy = part("gpu", with_(GPU, length_mm=267, weight_g=2200), "Heavy GPU")
    assert "GPU_SAG" in codes(rig(gpu=heavy, brace=None))
    riser = part("gpu", with_(GPU, length_mm=336), "Long GPU", riser=True)
    assert "GPU_SAG" not in codes(rig(gpu=riser, brace=None))


def test_m2_slots_exceeded():
    r = run(rig(nvme=part("storage", NVME, "SSD", quantity=4)))
    (f,) = r.find("M2_SLOTS_EXCEEDED")
    assert "4 M.2 drives" in f.message and "3 M.2 sockets" in f.message
    assert "M2_SLOTS_EXCEEDED" not in codes(rig(nvme=part("storage", NVME, "SSD", quantity=3)))
    sata = part("storage", {"interface": "sata_ssd", "capacity_gb": 2000, "form_factor": "2.5"}, "SATA")
    assert "M2_SLOTS_EXCEEDED" not in codes(rig(extra=(sata,), nvme=part("storage", NVME, "SSD", quantity=3)))


def test_board_without_memory_type_falls_back_to_cpu():
    board = part("motherboard", with_(BOARD, memory_type=None), "Board")
    assert "MEMORY_TYPE_MISMATCH" in codes(
        rig(board=board, memory=part("memory", with_(MEMORY, memory_type="DDR4")))
    )
