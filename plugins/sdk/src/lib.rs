//! dwlink-plugin-sdk: write a dwlink data-source plugin.
