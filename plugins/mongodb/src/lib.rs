//! dwlink plugin: mongodb
