//! Not a service yet (issue 13, work in progress).

fn main() -> std::process::ExitCode {
    eprintln!("budget-guard: not built yet (issue 13, work in progress)");
    std::process::ExitCode::FAILURE
}
