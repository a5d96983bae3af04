//! dwlink-sim: an Alibaba Cloud simulator that speaks the real OpenAPI wire protocol.
