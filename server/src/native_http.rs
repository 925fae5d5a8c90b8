//! (being written) The native HTTP client for the shared OAuth flows, on reqwest.
