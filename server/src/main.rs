//! The `keyhole` binary. All behaviour lives in the library; this only hands over the arguments.

use std::process::ExitCode;

fn main() -> ExitCode {
    keyhole_server::launcher::main()
}
