//! The raw bindings generated from `wit/since_v0.2.0` (package `dwlink:plugin@0.2.0`).
//!
//! Plugin authors do not use these directly: implement [`crate::Plugin`] and call
//! [`crate::export_plugin!`]. They are public only because the export macro expands in the
//! plugin's crate and must reach them.

wit_bindgen::generate!({
    path: "../../wit/since_v0.2.0",
    world: "datasource-plugin",
    pub_export_macro: true,
    export_macro_name: "export_datasource",
    default_bindings_module: "dwlink_plugin_sdk::bindings",
});
