//! dwlink plugin: polardb
