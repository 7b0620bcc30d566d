"""The OpenAPI 3.1 schema of the JSON API (served at /api/v1/openapi.json; schemathesis runs against it)."""

from builds.api import READ_ONLY_KEYS
from catalog.engine.specs import CATEGORIES, CIRCUITS

NUMBER = {"type": "number"}
INT = {"type": "integer"}

PLACEMENT = {
    "slots": {
        "type": "array",
        "items": {"type": ["integer", "null"], "minimum": 1, "maximum": 16},
        "maxItems": 16,
        "description": "board slot row per unit; null for a unit the engine places",
    },
    "riser": {"type": "boolean"},
    "riser_width": {"type": "integer", "enum": [1, 4, 8, 16]},
    "psu": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 63}, "maxItems": 16},
    "power_limit_w": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000},
}
MONEY = {
    "oneOf": [
        {"type": "string", "pattern": "^[0-9]{1,10}(\\.[0-9]{1,2})?$"},
        {"type": "number", "minimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
    ]
}
# What a saved build keeps per line (GET and the JSON export show them; export, then import, is exact).
# Absent in a PATCH: kept from the saved line the part continues (same part, or same custom part); null:
# cleared; given: set.
SAVED = {
    "saved_price_usd": {
        "description": "USD per unit when the line was first saved; default the catalogue's price then",
        "oneOf": [MONEY, {"type": "null"}],
    },
    "price_paid": {
        "oneOf": [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["amount", "currency"],
                "properties": {
                    "amount": MONEY,
                    "currency": {"type": "string", "enum": ["USD", "EUR", "CNY", "GBP", "JPY"]},
                    "condition": {"type": "string", "enum": ["", "new", "used"]},
                },
            },
            {"type": "null"},
        ]
    },
}
# The line's place among all the build's lines, catalogue and custom (GET and the export give it; lines
# without one follow those with one, in the order given).
POSITION = {"position": {"type": "integer", "minimum": 0, "maximum": 127}}
CATALOGUE_PART = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slug"],
    "properties": {
        "slug": {"type": "string", "maxLength": 220},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 16},
        "name": {"type": "string", "readOnly": True, "description": "from the catalogue; ignored"},
        "category": {"type": "string", "readOnly": True, "description": "from the catalogue; ignored"},
    }
    | PLACEMENT
    | SAVED
    | POSITION,
}
INLINE_PART = {
    "type": "object",
    "additionalProperties": False,
    "required": ["category"],
    "properties": {
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "name": {"type": "string", "maxLength": 200},
        "spec": {
            "type": "object",
            "description": "Spec fields of docs/catalogue-data-format.md; unknown fields are rejected",
        },
        "quantity": {"type": "integer", "minimum": 1, "maximum": 16},
    }
    | PLACEMENT
    | SAVED
    | POSITION,
}
CIRCUIT = {
    "oneOf": [
        {"type": "string", "enum": list(CIRCUITS)},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["volts", "amps"],
            "properties": {
                "volts": {"type": "number", "minimum": 90, "maximum": 480},
                "amps": {"type": "number", "minimum": 1, "maximum": 100},
            },
        },
    ]
}
CONTEXT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "circuit": CIRCUIT,
        "kwh_price": {"type": "number", "minimum": 0, "maximum": 100},
        "hours_per_day": {"type": "number", "minimum": 0, "maximum": 24},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
}
ESTIMATE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["model"],
    "properties": {
        "model": {"oneOf": [{"type": "string"}, {"type": "object"}]},
        "method": {"type": "string", "enum": ["inference", "full", "lora", "qlora"]},
        "precision": {
            "type": "string",
            "description": "bf16, fp16, amp (training), int8, nf4, int4 (bitsandbytes / AWQ-GPTQ in vllm), or a "
            "GGUF type for llama.cpp: Q4_0, Q4_K_M, Q5_K_M, Q6_K, Q8_0, F16 (case-insensitive; q4/q5/q8 = "
            "Q4_K_M/Q5_K_M/Q8_0)",
        },
        "runtime": {
            "type": "string",
            "enum": ["llama.cpp", "vllm", "transformers", "hf", "fsdp_qlora"],
            "description": "What runs the workload; memory, fit and speed follow it. Inference: llama.cpp "
            "(default for GGUF types; layers split across GPUs, or parallel 'row'), vllm (tensor parallel, "
            "preallocates gpu_memory_utilization), transformers (default for bf16/fp16/int8/nf4). Training: hf "
            "(Trainer + peft, default) or fsdp_qlora (Answer.AI FSDP + QLoRA; parallel fsdp|ddp, offload params)",
        },
        "gpu_memory_utilization": {
            "type": "number",
            "minimum": 0.05,
            "maximum": 1,
            "description": "vllm only",
        },
        "batch": {"type": "integer", "minimum": 1},
        "seq_len": {"type": "integer", "minimum": 1},
        "new_tokens": {"type": "integer", "minimum": 0},
        "gradient_checkpointing": {"type": "boolean"},
        "lora_rank": {"type": "integer", "minimum": 1},
        "gpus": {"type": "integer", "minimum": 1},
        "parallel": {
            "type": "string",
            "description": "inference: tensor | pipeline (llama.cpp also layer = pipeline, row = tensor); "
            "training: zero3 | ddp (hf), fsdp | ddp (fsdp_qlora)",
        },
        "offload": {
            "type": "string",
            "description": "hf + zero3: none | optimizer | optimizer_and_params; fsdp_qlora: none | params",
        },
        "gpu_vram_gib": {"type": "number"},
    },
}
CHECK_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "parts": {"type": "array", "items": CATALOGUE_PART, "maxItems": 64},
        "inline_parts": {"type": "array", "items": INLINE_PART, "maxItems": 64},
        "context": CONTEXT,
        "workloads": {"type": "array", "items": ESTIMATE, "maxItems": 16},
    },
}
BUILD_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": CHECK_BODY["properties"]
    | {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string", "maxLength": 5000},
        "visibility": {"type": "string", "enum": ["unlisted", "public"]},
        "currency": {"type": "string", "enum": ["USD", "EUR", "CNY", "GBP", "JPY"]},
    }
    # Shown by GET and the JSON export; accepted in a body (so an export posts back as it is), never assigned.
    | {key: {"readOnly": True} for key in sorted(READ_ONLY_KEYS)},
    "description": "PATCH replaces exactly the fields it names: `parts` the catalogue parts, `inline_parts` the "
    "custom parts, `context` the context, `workloads` the workloads; every other field stays as saved.",
}
RECOMMEND_WORKLOAD = {
    "type": "object",
    "required": ["model"],
    "properties": ESTIMATE["properties"]
    | {
        "runtime": {"type": "string"},
        "target_tokens_per_s": {"type": "number", "exclusiveMinimum": 0},
        "target_days": {"type": "number", "exclusiveMinimum": 0},
        "train_tokens": {"type": "number", "exclusiveMinimum": 0},
    },
}
RECOMMEND_BODY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["workloads"],
    "properties": {
        "workloads": {"type": "array", "items": RECOMMEND_WORKLOAD, "minItems": 1, "maxItems": 8},
        "budget": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "amount": {"type": "number", "minimum": 1, "maximum": 1e9},
                "currency": {"type": "string", "enum": ["USD", "EUR", "CNY", "GBP", "JPY"]},
            },
        },
        "prices": {"type": "string", "enum": ["used", "new", "any"]},
        "circuit": CIRCUIT,
        "max_gpus": {"type": "integer", "minimum": 1, "maximum": 8},
        "enclosure": {"type": "string", "enum": ["case", "open_frame", "any"]},
        "owned": {
            "type": "array",
            "maxItems": 16,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["slug"],
                "properties": {
                    "slug": {"type": "string", "maxLength": 220},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 16},
                },
            },
        },
        "value_per": {"type": "string", "enum": ["currency", "watt"]},
    },
}
ERROR = {
    "description": "Invalid input; `error.field` names the field",
    "content": {"application/json": {"schema": {"type": "object", "required": ["error"]}}},
}
REPORT = {
    "description": "The engine's report",
    "content": {"application/json": {"schema": {"type": "object"}}},
}


def json_body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


SCHEMA = {
    "openapi": "3.1.0",
    "info": {
        "title": "Rigsite API",
        "version": "1.0.0",
        "description": "Compatibility checks, workload estimates, saved builds.",
    },
    "paths": {
        "/api/v1/check": {
            "post": {
                "operationId": "check",
                "requestBody": json_body(CHECK_BODY),
                "responses": {"200": REPORT, "400": ERROR, "413": ERROR, "429": ERROR},
            }
        },
        "/api/v1/estimate": {
            "post": {
                "operationId": "estimate",
                "requestBody": json_body(ESTIMATE),
                "responses": {
                    "200": {"description": "device_gib, breakdown_gib per GPU"},
                    "400": ERROR,
                    "429": ERROR,
                },
            }
        },
        "/api/v1/recommend": {
            "post": {
                "operationId": "recommend",
                "requestBody": json_body(RECOMMEND_BODY),
                "responses": {
                    "200": {
                        "description": "rigs (cheapest, fastest, best_value: parts with placement, context, "
                        "price {amount, currency, unpriced_parts}, findings, workloads), considered, why_not; "
                        "parts + context posted to /api/v1/check reproduce each rig's findings",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "400": ERROR,
                    "413": ERROR,
                    "429": ERROR,
                },
            }
        },
        "/api/v1/builds": {
            "post": {
                "operationId": "createBuild",
                "requestBody": json_body(BUILD_BODY),
                "responses": {
                    "201": {"description": "share_id, edit_token, url"},
                    "400": ERROR,
                    "429": ERROR,
                },
            }
        },
        "/api/v1/builds/{share_id}": {
            "parameters": [
                {
                    "name": "share_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "maxLength": 64},
                }
            ],
            "get": {"operationId": "getBuild", "responses": {"200": REPORT, "404": ERROR, "429": ERROR}},
            "patch": {
                "operationId": "patchBuild",
                "parameters": [
                    {"name": "X-Edit-Token", "in": "header", "required": False, "schema": {"type": "string"}}
                ],
                "requestBody": json_body(BUILD_BODY),
                "responses": {"200": REPORT, "400": ERROR, "403": ERROR, "404": ERROR, "429": ERROR},
            },
        },
    },
}
