//! The `contrail` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(contrail::cli::main().code())
}
