//! What the host reads from a plugin file before compiling or instantiating it: that it is a
//! component (not a core module, not some other file) and which WIT contract version it was
//! built against.
//!
//! The version lives in a custom section named [`WIT_VERSION_SECTION`] whose content is the
//! UTF-8 version string (e.g. `0.1.0`). The guest SDK writes it with `#[link_section]`, so it
//! sits in the core module nested inside the component; wasmparser's `parse_all` walks nested
//! modules and components, so it is found wherever it sits.

use super::error::PluginError;
use super::text::sanitize;
use wasmparser::{Encoding, Parser, Payload};

/// Name of the custom section carrying the contract version.
pub const WIT_VERSION_SECTION: &str = "dwlink:wit-version";

/// The contract versions this host has an adapter for, newest last.
pub const SUPPORTED_WIT_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

/// A contract version this host can run; each has its adapter module (`v0_1`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitVersion {
    V0_1,
    V0_2,
}

impl WitVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            WitVersion::V0_1 => "0.1.0",
            WitVersion::V0_2 => "0.2.0",
        }
    }

    /// The adapter for `text`, if any. Within 0.x every minor version is its own contract, so
    /// only exact versions a host knows are accepted; a later host keeps every older adapter.
    pub fn parse(text: &str) -> Option<WitVersion> {
        match text {
            "0.1.0" => Some(WitVersion::V0_1),
            "0.2.0" => Some(WitVersion::V0_2),
            _ => None,
        }
    }
}

/// Checks the file's framing and reads its contract version, without compiling anything.
pub fn read_wit_version(path: &str, bytes: &[u8]) -> Result<WitVersion, PluginError> {
    let not_wasm = |reason: String| PluginError::NotWasm {
        path: path.into(),
        reason,
    };
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(not_wasm(
            "it does not start with the wasm magic bytes".into(),
        ));
    }
    let mut found: Option<Vec<u8>> = None;
    let mut first = true;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| not_wasm(format!("malformed wasm: {e}")))?;
        match payload {
            Payload::Version { encoding, .. } if first => {
                first = false;
                if encoding == Encoding::Module {
                    return Err(PluginError::CoreModule { path: path.into() });
                }
            }
            Payload::CustomSection(reader) if reader.name() == WIT_VERSION_SECTION => {
                let data = reader.data().to_vec();
                match &found {
                    Some(earlier) if *earlier != data => {
                        return Err(PluginError::UnsupportedWitVersion {
                            path: path.into(),
                            found: format!(
                                "{} and {} (two different sections)",
                                sanitize(&String::from_utf8_lossy(earlier), 40),
                                sanitize(&String::from_utf8_lossy(&data), 40)
                            ),
                            supported: supported(),
                        });
                    }
                    _ => found = Some(data),
                }
            }
            _ => {}
        }
    }
    let Some(data) = found else {
        return Err(PluginError::MissingWitVersion { path: path.into() });
    };
    let text = String::from_utf8_lossy(&data);
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    WitVersion::parse(text).ok_or_else(|| PluginError::UnsupportedWitVersion {
        path: path.into(),
        // The plugin's bytes, quoted in an error: sanitised.
        found: sanitize(text, 40),
        supported: supported(),
    })
}

fn supported() -> String {
    SUPPORTED_WIT_VERSIONS.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module with one custom section `name` = `data`, encoded by hand.
    fn core_module_with_section(name: &str, data: &[u8]) -> Vec<u8> {
        let mut section = vec![name.len() as u8];
        section.extend_from_slice(name.as_bytes());
        section.extend_from_slice(data);
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.push(0); // custom section id
        wasm.push(section.len() as u8);
        wasm.extend_from_slice(&section);
        wasm
    }

    /// A component wrapping `module` in a core-module section (id 1).
    fn component_with_module(module: &[u8]) -> Vec<u8> {
        let mut wasm = b"\0asm\x0d\0\x01\0".to_vec();
        wasm.push(1);
        wasm.push(module.len() as u8);
        wasm.extend_from_slice(module);
        wasm
    }

    #[test]
    fn reads_the_version_from_a_nested_core_module() {
        let module = core_module_with_section(WIT_VERSION_SECTION, b"0.1.0");
        let component = component_with_module(&module);
        assert_eq!(
            read_wit_version("p.wasm", &component).unwrap(),
            WitVersion::V0_1
        );
    }

    #[test]
    fn refuses_an_unknown_version_naming_both() {
        let module = core_module_with_section(WIT_VERSION_SECTION, b"9.0.0");
        let err = read_wit_version("p.wasm", &component_with_module(&module)).unwrap_err();
        assert_eq!(
            err,
            PluginError::UnsupportedWitVersion {
                path: "p.wasm".into(),
                found: "9.0.0".into(),
                supported: "0.1.0, 0.2.0".into()
            }
        );
    }

    #[test]
    fn an_unknown_version_is_quoted_sanitised() {
        let module = core_module_with_section(WIT_VERSION_SECTION, b"\x1b[2J9.0");
        let err = read_wit_version("p.wasm", &component_with_module(&module)).unwrap_err();
        assert!(
            matches!(&err, PluginError::UnsupportedWitVersion { found, .. } if found == "\\u{1b}[2J9.0"),
            "{err:?}"
        );
    }

    #[test]
    fn a_component_without_the_section_is_refused() {
        let module = core_module_with_section("other", b"x");
        let err = read_wit_version("p.wasm", &component_with_module(&module)).unwrap_err();
        assert!(
            matches!(err, PluginError::MissingWitVersion { .. }),
            "{err}"
        );
    }

    #[test]
    fn a_core_module_and_a_text_file_are_told_apart() {
        let err = read_wit_version("m.wasm", b"\0asm\x01\0\0\0").unwrap_err();
        assert!(matches!(err, PluginError::CoreModule { .. }), "{err}");
        let err = read_wit_version("t.txt", b"hello, I am text\n").unwrap_err();
        assert!(matches!(err, PluginError::NotWasm { .. }), "{err}");
        let err = read_wit_version("t.wasm", b"\0asm\x0d\0\x01\0\x01\x7f").unwrap_err();
        assert!(matches!(err, PluginError::NotWasm { .. }), "{err}");
    }
}
