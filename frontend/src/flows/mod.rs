//! What happens over time, across the backend and redirects: a session and its requests ([`session`]), recovery from auth challenges ([`recovery`], the shared engine's surface), connecting ([`connect`]), the server's paged lists ([`listing`]), the OAuth effects and leaving for a sign-in ([`oauth`]), what it takes along ([`carried`]), coming back ([`arrival`]), what the server asks of the client ([`client_side`]), and tool calls run as tasks ([`tasks`]).

pub mod arrival;
pub mod carried;
pub mod client_side;
pub mod connect;
pub mod incident_bundle;
pub mod input_required;
pub mod listing;
pub mod oauth;
pub mod recovery;
pub mod session;
pub mod tasks;
pub mod timeline;
