fn main() -> std::process::ExitCode {
    dwlink_host::cli::main()
}
