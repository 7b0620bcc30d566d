"""The OpenAPI 3.1 schema of the JSON API (served at /api/v1/openapi.json; schemathesis runs against it)."""

from catalog.engine.specs import CATEGORIES, CIRCUITS

NUMBER = {"type": "number"}
INT = {"type": "integer"}

PLACEMENT = {
    "slots": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 16}, "maxItems": 16},
    "riser": {"type": "boolean"},
    "riser_width": {"type": "integer", "enum": [1, 4, 8, 16]},
    "psu": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 63}, "maxItems": 16},
    "power_limit_w": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000},
}
CATALOGUE_PART = {
    "type": "object",
    "additionalProperties": False,
    "required": ["slug"],
    "properties": {
        "slug": {"type": "string", "maxLength": 220},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 16},
    }
    | PLACEMENT,
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
            "description": "Inline spec fields of DESIGN.md; unknown fields are rejected",
        },
        "quantity": {"type": "integer", "minimum": 1, "maximum": 16},
    }
    | PLACEMENT,
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
        "precision": {"type": "string"},
        "batch": {"type": "integer", "minimum": 1},
        "seq_len": {"type": "integer", "minimum": 1},
        "new_tokens": {"type": "integer", "minimum": 0},
        "gradient_checkpointing": {"type": "boolean"},
        "lora_rank": {"type": "integer", "minimum": 1},
        "gpus": {"type": "integer", "minimum": 1},
        "parallel": {"type": "string"},
        "offload": {"type": "string"},
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
