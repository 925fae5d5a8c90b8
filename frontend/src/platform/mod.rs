//! The browser underneath the app: calls to our backend ([`api`]) and its OAuth store ([`oauth_store`]), the event stream ([`events`]), Web Locks, page visibility and time ([`page`]), keyboard shortcuts, and text/number conversions done by JavaScript built-ins ([`text`]).

pub mod api;
pub mod events;
pub mod keys;
pub mod oauth_store;
pub mod page;
pub mod text;
pub mod web_locks;
