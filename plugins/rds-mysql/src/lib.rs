//! dwlink plugin: rds-mysql
