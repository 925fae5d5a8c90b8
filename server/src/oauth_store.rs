//! (being written) The file-backed OAuth store shared by the web backend and the CLI.
