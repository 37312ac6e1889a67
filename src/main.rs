//! The `contrail` binary: a thin shell over the library.

fn main() -> std::process::ExitCode {
    contrail::panics::install();
    // A panic that reaches this far (the hook has already said what it was) is a harness
    // failure, exit 3, and so is one that a step or a worker caught on the way.
    let exit = match std::panic::catch_unwind(contrail::cli::main) {
        Ok(_) if contrail::panics::happened() => contrail::exit::Exit::Harness,
        Ok(exit) => exit,
        Err(_) => contrail::exit::Exit::Harness,
    };
    std::process::ExitCode::from(exit.code())
}
