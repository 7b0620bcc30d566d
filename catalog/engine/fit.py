"""Physical and platform fit: sockets, memory, form factors, lengths, heights, missing parts, sag."""

from __future__ import annotations

from .report import Finding, error, info
from .state import State
from .wording import plural, with_article

# Sag: cards this long or heavy, mounted straight in a slot, commonly ship with (or need) a support
# bracket (rule of thumb; e.g. ASUS and MSI bundle holders with their RTX 4090 cards).
SAG_LENGTH_MM = 300.0
SAG_WEIGHT_G = 1500.0

# Board form factors a case listing a bigger form factor also takes (mounting holes are a superset).
FORM_FACTOR_ALSO = {
    "Mini-ITX": ("Mini-ITX",),
    "Micro-ATX": ("Micro-ATX", "Mini-ITX"),
    "ATX": ("ATX", "Micro-ATX", "Mini-ITX"),
    "E-ATX": ("E-ATX", "ATX", "Micro-ATX", "Mini-ITX"),
    "EEB": ("EEB", "E-ATX", "ATX", "Micro-ATX", "Mini-ITX"),
    "SSI-EEB": ("SSI-EEB", "EEB", "E-ATX", "ATX", "Micro-ATX", "Mini-ITX"),
    "XL-ATX": ("XL-ATX", "E-ATX", "ATX", "Micro-ATX", "Mini-ITX"),
    "CEB": ("CEB", "ATX", "Micro-ATX", "Mini-ITX"),
    "SSI-CEB": ("SSI-CEB", "CEB", "ATX", "Micro-ATX", "Mini-ITX"),
}


def check_missing(state: State) -> list[Finding]:
    if not state.gpus:
        return []
    out = []
    rig = state.rig
    n = len(state.gpus)
    if rig.cpu is None:
        out.append(error("CPU_MISSING", "fit", f"The build has {plural(n, 'GPU')} but no CPU."))
    if rig.board is None:
        out.append(
            error(
                "BOARD_MISSING",
                "fit",
                f"The build has {plural(n, 'GPU')} but no motherboard: lanes and slots cannot be checked.",
            )
        )
    return out


def check_socket(state: State) -> list[Finding]:
    cpu, board = state.rig.cpu, state.rig.board
    if cpu is None or board is None:
        return []
    a, b = cpu.spec.socket, board.spec.socket
    if a and b and a.upper() != b.upper():
        return [
            error(
                "SOCKET_MISMATCH",
                "fit",
                f"The {cpu.name} is {with_article(a)} CPU but the {board.name} has {with_article(b)} socket.",
                (cpu.id, board.id),
            )
        ]
    return []


# Which DIMMs a platform takes, by socket. Desktop platforms take unbuffered DIMMs only: AMD AM4/AM5 and
# Intel LGA1200/1700/1851 list "UDIMM" (AMD Ryzen 7000 spec pages: "System Memory Type DDR5", platform
# UDIMM only; Intel ARK "Memory Types: Up to DDR5 ..." with no RDIMM); first- and third-generation
# Threadripper (TR4, sTRX4) take (ECC) UDIMMs. Workstation and server sockets take registered DIMMs only:
# sWRX8 (WRX80: "DDR4 RDIMM/LRDIMM", AMD Threadripper PRO 5000WX spec pages), sTR5 (TRX50/WRX90: "DDR5
# RDIMM"), SP3/SP5 (EPYC) and LGA4677 (Xeon W-3400/2400, Xeon Scalable 4th gen: "DDR5 RDIMM"). A DDR5 RDIMM
# is keyed differently from a UDIMM and does not go in; a DDR4 RDIMM goes in but does not train on a
# desktop board.
UDIMM_ONLY_SOCKETS = {"AM4", "AM5", "LGA1151", "LGA1200", "LGA1700", "LGA1851", "TR4", "STRX4"}
RDIMM_ONLY_SOCKETS = {"SWRX8", "STR5", "SP3", "SP5", "LGA4677", "LGA4189", "LGA3647"}


def dimm_kind_fits(socket: str | None, registered: bool | None) -> bool:
    """False when a kit's DIMM kind (registered or not) is one the socket's platform never takes; unknown on
    either side counts as fitting (no claim). The one rule behind MEMORY_REGISTERED_MISMATCH."""
    platform = (socket or "").upper()
    if registered is True:
        return platform not in UDIMM_ONLY_SOCKETS
    if registered is False:
        return platform not in RDIMM_ONLY_SOCKETS
    return True


def check_registered(state: State) -> list[Finding]:
    """MEMORY_REGISTERED_MISMATCH: a registered (RDIMM) kit on a board that takes unbuffered DIMMs only,
    or an unbuffered kit on one that takes registered DIMMs only. Unknown on either side: no finding."""
    board = state.rig.board
    socket = (board.spec.socket or "").upper() if board else ""
    out: list[Finding] = []
    for kit in state.rig.memory:
        registered = kit.spec.registered
        if dimm_kind_fits(socket, registered):
            continue
        if registered is True:
            out.append(
                error(
                    "MEMORY_REGISTERED_MISMATCH",
                    "fit",
                    f"{kit.name} is registered (RDIMM) memory, but the {board.name} is {with_article(board.spec.socket)} "
                    "desktop board that takes unbuffered DIMMs (UDIMM) only: it will not fit or will not boot. "
                    "Pick an unbuffered kit (ECC UDIMM where the board supports ECC).",
                    (kit.id, board.id),
                )
            )
        else:
            out.append(
                error(
                    "MEMORY_REGISTERED_MISMATCH",
                    "fit",
                    f"{kit.name} is unbuffered (UDIMM) memory, but the {board.name} ({board.spec.socket}) takes "
                    "registered DIMMs (RDIMM) only: pick an RDIMM kit.",
                    (kit.id, board.id),
                )
            )
    return out


def check_memory(state: State) -> list[Finding]:
    rig = state.rig
    out: list[Finding] = []
    board = rig.board
    cpu = rig.cpu
    kits = rig.memory
    if not kits:
        return out
    board_type = board.spec.memory_type if board else None
    cpu_type = cpu.spec.memory_type if cpu else None
    for k in kits:
        t = k.spec.memory_type
        if t and board_type and t != board_type:
            out.append(
                error(
                    "MEMORY_TYPE_MISMATCH",
                    "fit",
                    f"{k.name} is {t} but the {board.name} takes {board_type}.",
                    (k.id, board.id),
                )
            )
        elif t and not board_type and cpu_type and t != cpu_type:
            out.append(
                error(
                    "MEMORY_TYPE_MISMATCH",
                    "fit",
                    f"{k.name} is {t} but the {cpu.name} supports {cpu_type}.",
                    (k.id, cpu.id),
                )
            )
    modules = 0
    total = 0.0
    unknown = False
    for k in kits:
        m = k.spec.modules
        if m is None:
            unknown = True
            continue
        modules += m * k.quantity
        if k.spec.module_gb is None:
            unknown = True
        else:
            total += m * k.spec.module_gb * k.quantity
    ids = tuple(k.id for k in kits)
    if board and board.spec.memory_slots is not None and modules > board.spec.memory_slots:
        out.append(
            error(
                "MEMORY_SLOTS_EXCEEDED",
                "fit",
                f"{modules} memory modules but the {board.name} has {board.spec.memory_slots} DIMM slots.",
                (*ids, board.id),
            )
        )
    if not unknown:
        limits = []
        if board and board.spec.max_memory_gb is not None:
            limits.append((board.spec.max_memory_gb, board))
        if cpu and cpu.spec.max_memory_gb is not None:
            limits.append((cpu.spec.max_memory_gb, cpu))
        for lim, part in sorted(limits, key=lambda x: x[0])[:1]:
            if total > lim:
                out.append(
                    error(
                        "MEMORY_CAPACITY_EXCEEDED",
                        "fit",
                        f"{total:g} GB of RAM but the {part.name} supports at most {lim:g} GB.",
                        (*ids, part.id),
                    )
                )
    return out


def check_case(state: State) -> list[Finding]:
    rig = state.rig
    case = rig.case
    if case is None:
        return []
    out: list[Finding] = []
    cs = case.spec
    board = rig.board
    if board and board.spec.form_factor and cs.form_factors is not None:
        takes = {ff for listed in cs.form_factors for ff in FORM_FACTOR_ALSO.get(listed, (listed,))}
        if board.spec.form_factor not in takes:
            out.append(
                error(
                    "FORM_FACTOR_MISMATCH",
                    "fit",
                    f"The {case.name} takes {', '.join(cs.form_factors)} boards; the {board.name} is "
                    f"{board.spec.form_factor}.",
                    (case.id, board.id),
                )
            )
    if cs.max_gpu_length_mm is not None and not cs.open_frame:
        seen: set[str] = set()
        for u in state.gpus:
            length = u.spec.length_mm
            if length is not None and length > cs.max_gpu_length_mm and u.part.id not in seen:
                seen.add(u.part.id)
                out.append(
                    error(
                        "GPU_TOO_LONG",
                        "fit",
                        f"{u.part.name} is {length:g} mm long; the {case.name} fits cards up to "
                        f"{cs.max_gpu_length_mm:g} mm.",
                        (u.part.id, case.id),
                    )
                )
    cooler = rig.cooler
    if (
        cooler
        and cooler.spec.height_mm is not None
        and cs.max_cooler_height_mm is not None
        and not cs.open_frame
        and cooler.spec.height_mm > cs.max_cooler_height_mm
    ):
        out.append(
            error(
                "COOLER_TOO_TALL",
                "fit",
                f"{cooler.name} is {cooler.spec.height_mm:g} mm tall; the {case.name} takes coolers up to "
                f"{cs.max_cooler_height_mm:g} mm.",
                (cooler.id, case.id),
            )
        )
    return out


def check_cooler_socket(state: State) -> list[Finding]:
    cooler, cpu = state.rig.cooler, state.rig.cpu
    if cooler is None or cpu is None or cooler.spec.sockets is None or not cpu.spec.socket:
        return []
    sockets = {s.upper() for s in cooler.spec.sockets}
    if cpu.spec.socket.upper() in sockets:
        return []
    return [
        error(
            "COOLER_SOCKET_UNSUPPORTED",
            "fit",
            f"{cooler.name} lists {', '.join(cooler.spec.sockets) or 'no sockets'}, not the {cpu.name}'s "
            f"{cpu.spec.socket}.",
            (cooler.id, cpu.id),
        )
    ]


def check_sag(state: State) -> list[Finding]:
    rig = state.rig
    if rig.braces:
        return []
    if rig.case is not None and rig.case.spec.open_frame:
        return []
    out: list[Finding] = []
    seen: set[str] = set()
    for u in state.gpus:
        if u.riser or u.part.id in seen:
            continue
        s = u.spec
        long_ = s.length_mm is not None and s.length_mm >= SAG_LENGTH_MM
        heavy = s.weight_g is not None and s.weight_g >= SAG_WEIGHT_G
        if long_ or heavy:
            seen.add(u.part.id)
            what = ", ".join(
                x
                for x in (
                    f"{s.length_mm:g} mm long" if long_ else "",
                    f"{s.weight_g / 1000:g} kg" if heavy else "",
                )
                if x
            )
            out.append(
                info(
                    "GPU_SAG",
                    "fit",
                    f"{u.part.name} is {what} and hangs from its slot with no brace in the build: add a "
                    "GPU support bracket to keep the slot and the PCB from bending.",
                    (u.part.id,),
                )
            )
    return out
