//! Not a service yet: only the dump core (`backup_runner::dump`) exists.

fn main() -> std::process::ExitCode {
    eprintln!("backup-runner: not built yet (issue 12, work in progress)");
    std::process::ExitCode::FAILURE
}
