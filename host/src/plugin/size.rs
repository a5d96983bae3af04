//! What the host checks on a component before compiling it: the file size (the limit
//! `max_component_mib`) and how much code it would have to compile (fixed caps in
//! [`limits`](super::limits)). Compilation is the one cost no per-call limit bounds: a 27 MB
//! component once took 300 s and 1.2 GB to compile.

use super::error::PluginError;
use super::limits::{self, Limits};
use wasmparser::{Parser, Payload};

/// The file must be at most `max_component_mib`.
pub(crate) fn check_file_size(path: &str, size: u64, limits: &Limits) -> Result<(), PluginError> {
    let limit = limits.max_component_bytes();
    if size > limit {
        return Err(PluginError::TooLarge {
            path: path.into(),
            size,
            limit,
        });
    }
    Ok(())
}

/// The code a component asks the host to compile, over every core module it nests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodeStats {
    pub functions: u64,
    pub code_bytes: u64,
    pub largest_function: u64,
}

/// Counts the component's code without compiling it (wasmparser only reads section headers and
/// function-body lengths) and refuses it when it is beyond the compile-cost caps.
pub(crate) fn check_code(path: &str, bytes: &[u8]) -> Result<CodeStats, PluginError> {
    let mut stats = CodeStats::default();
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| PluginError::NotWasm {
            path: path.into(),
            reason: format!("malformed wasm: {e}"),
        })?;
        match payload {
            Payload::CodeSectionStart { count, size, .. } => {
                stats.functions += u64::from(count);
                stats.code_bytes += u64::from(size);
            }
            Payload::CodeSectionEntry(body) => {
                stats.largest_function = stats.largest_function.max(body.range().len() as u64);
            }
            _ => {}
        }
    }
    let too_much = |what, found, limit| PluginError::TooMuchCode {
        path: path.into(),
        what,
        found,
        limit,
    };
    if stats.code_bytes > limits::MAX_CODE_BYTES {
        return Err(too_much(
            "bytes of code",
            stats.code_bytes,
            limits::MAX_CODE_BYTES,
        ));
    }
    if stats.functions > limits::MAX_FUNCTIONS {
        return Err(too_much(
            "functions",
            stats.functions,
            limits::MAX_FUNCTIONS,
        ));
    }
    if stats.largest_function > limits::MAX_FUNCTION_BYTES {
        return Err(too_much(
            "bytes in one function",
            stats.largest_function,
            limits::MAX_FUNCTION_BYTES,
        ));
    }
    Ok(stats)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn leb(mut n: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn section(id: u8, body: &[u8], out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len() as u64, out);
        out.extend_from_slice(body);
    }

    /// A component nesting one core module with `bodies.len()` functions of type `[] -> []`,
    /// each body that many bytes (no locals, `nop`s, `end`).
    pub(crate) fn component_with_code(bodies: &[usize]) -> Vec<u8> {
        let mut code = Vec::new();
        leb(bodies.len() as u64, &mut code);
        for &len in bodies {
            leb(len as u64, &mut code);
            code.push(0); // no locals
            code.extend(std::iter::repeat_n(0x01, len.saturating_sub(2))); // nop
            code.push(0x0b); // end
        }
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        section(1, &[1, 0x60, 0, 0], &mut module); // one type: [] -> []
        let mut functions = Vec::new();
        leb(bodies.len() as u64, &mut functions);
        functions.resize(functions.len() + bodies.len(), 0); // each of type 0
        section(3, &functions, &mut module);
        section(10, &code, &mut module);
        let mut component = b"\0asm\x0d\0\x01\0".to_vec();
        section(1, &module, &mut component);
        component
    }

    #[test]
    fn code_is_counted_across_nested_modules() {
        let stats = check_code("p.wasm", &component_with_code(&[10, 300, 20])).unwrap();
        assert_eq!(stats.functions, 3);
        assert_eq!(stats.largest_function, 300);
        assert!(stats.code_bytes >= 330, "{stats:?}");
    }

    #[test]
    fn too_much_code_is_refused_before_compiling() {
        let big = (limits::MAX_FUNCTION_BYTES + 1) as usize;
        let err = check_code("p.wasm", &component_with_code(&[big])).unwrap_err();
        assert_eq!(
            err,
            PluginError::TooMuchCode {
                path: "p.wasm".into(),
                what: "bytes in one function",
                found: big as u64,
                limit: limits::MAX_FUNCTION_BYTES,
            }
        );
        let many = vec![2; limits::MAX_FUNCTIONS as usize + 1];
        let err = check_code("p.wasm", &component_with_code(&many)).unwrap_err();
        assert!(
            matches!(
                err,
                PluginError::TooMuchCode {
                    what: "functions",
                    ..
                }
            ),
            "{err}"
        );
        let bodies = vec![1 << 19; 17]; // 8.5 MiB in 17 functions of 512 KiB
        let err = check_code("p.wasm", &component_with_code(&bodies)).unwrap_err();
        assert!(
            matches!(
                err,
                PluginError::TooMuchCode {
                    what: "bytes of code",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.is_load_error());
    }

    #[test]
    fn the_file_size_cap_is_the_limit() {
        let limits = Limits::DEFAULT;
        assert!(check_file_size("p.wasm", 32 << 20, &limits).is_ok());
        let err = check_file_size("p.wasm", (32 << 20) + 1, &limits).unwrap_err();
        assert!(matches!(err, PluginError::TooLarge { .. }), "{err}");
        assert!(err.is_load_error());
    }
}
